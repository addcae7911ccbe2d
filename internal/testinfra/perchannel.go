package testinfra

import (
	"slices"
	"strings"
)

// PerChannel orders events written as "<kind> <channel> …" by channel,
// each channel's in the order given: what a check of webhook events
// compares, since only one channel's events are ordered with each other.
func PerChannel(evs []string) []string {
	by := map[string][]string{}
	var chans []string
	for _, ev := range evs {
		ch := strings.Fields(ev)[1]
		if by[ch] == nil {
			chans = append(chans, ch)
		}
		by[ch] = append(by[ch], ev)
	}
	slices.Sort(chans)
	var out []string
	for _, ch := range chans {
		out = append(out, by[ch]...)
	}
	return out
}
