package postgres

// PurgeHistorySQL is the purge statement, for the test that checks its
// plan.
const PurgeHistorySQL = purgeHistory
