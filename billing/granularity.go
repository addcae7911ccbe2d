package billing

import (
	"errors"
	"fmt"
	"time"
)

// Granularity is the length of the periods usage is read in. Periods are
// calendar periods in UTC: a minute, an hour, a day, a month.
type Granularity string

// The granularities, finest first.
const (
	Minute Granularity = "minute"
	Hour   Granularity = "hour"
	Day    Granularity = "day"
	Month  Granularity = "month"
)

// Granularities lists every granularity, finest first: the aggregator adds
// each fold to one period of each.
var Granularities = []Granularity{Minute, Hour, Day, Month}

// DefaultGranularity is the usage API's when none is asked for.
const DefaultGranularity = Hour

// MaxPeriods bounds how many periods one usage read may span: more is a
// range to narrow or a coarser granularity to pick.
const MaxPeriods = 1000

// Sentinel errors of range checks; the usage API maps them to 400s naming
// the parameter.
var (
	ErrUnknownGranularity = errors.New("unknown granularity")
	ErrInvertedRange      = errors.New("range ends before it starts")
	ErrRangeTooLong       = errors.New("range spans too many periods")
)

// ParseGranularity reads a granularity's name; "" is the default.
func ParseGranularity(s string) (Granularity, error) {
	switch g := Granularity(s); g {
	case "":
		return DefaultGranularity, nil
	case Minute, Hour, Day, Month:
		return g, nil
	}
	return "", fmt.Errorf("%w %q: want minute, hour, day or month", ErrUnknownGranularity, s)
}

// Start is the start of the period of g that holds t, in UTC.
func (g Granularity) Start(t time.Time) time.Time {
	t = t.UTC()
	switch g {
	case Minute:
		return t.Truncate(time.Minute)
	case Hour:
		return t.Truncate(time.Hour)
	case Day:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	default:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
}

// Next is the start of the period after the one starting at start.
func (g Granularity) Next(start time.Time) time.Time {
	switch g {
	case Minute:
		return start.Add(time.Minute)
	case Hour:
		return start.Add(time.Hour)
	case Day:
		return start.AddDate(0, 0, 1)
	default:
		return start.AddDate(0, 1, 0)
	}
}

// Periods returns the first and the last period start of g that overlap
// [from, to), and how many periods that is. The range must not be
// inverted, nor span more than MaxPeriods periods. An empty range
// (from == to) overlaps no period: n is 0.
func (g Granularity) Periods(from, to time.Time) (first, last time.Time, n int, err error) {
	if to.Before(from) {
		return time.Time{}, time.Time{}, 0, ErrInvertedRange
	}
	if to.Equal(from) {
		return time.Time{}, time.Time{}, 0, nil
	}
	first = g.Start(from)
	for p := first; p.Before(to); p = g.Next(p) {
		if n == MaxPeriods {
			return time.Time{}, time.Time{}, 0, fmt.Errorf("%w: more than %d %s periods", ErrRangeTooLong, MaxPeriods, g)
		}
		last = p
		n++
	}
	return first, last, n, nil
}
