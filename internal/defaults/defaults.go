// Package defaults holds the rule every Config in Herald follows for a
// numeric field (a size, a count, a duration): zero, and a negative value
// that would make no sense, take the field's documented default. Fields
// where a negative value means something (off, unlimited) spell their
// rule out instead.
package defaults

// Positive returns v if it is above zero, def otherwise.
func Positive[T ~int | ~int64 | ~float64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
