package billing

import (
	"cmp"
	"slices"
)

// sortRows orders rows by app, granularity and period: folds running at
// once then lock the rows they share in one order and never deadlock.
func sortRows(rows []Row) {
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.AppID, b.AppID), cmp.Compare(a.Granularity, b.Granularity), a.Period.Compare(b.Period))
	})
}
