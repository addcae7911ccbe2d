package postgres

// PurgeHistorySQL is the purge statement, for the test that checks its
// plan.
const PurgeHistorySQL = purgeHistory

// UnsentChunk is how many queued events a disable records in one
// transaction.
const UnsentChunk = unsentChunk
