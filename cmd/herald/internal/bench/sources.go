package bench

import (
	"fmt"
	"net/netip"
	"strings"
)

// maxSources bounds what one --src list expands to: enough for any run
// on one machine, small enough that a typo (a /8's worth) is refused.
const maxSources = 4096

// ParseSources reads a comma-separated list of addresses and ranges
// ("127.0.0.2-127.0.0.9"), as --src takes it; empty gives none.
func ParseSources(list string) ([]netip.Addr, error) {
	var out []netip.Addr
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(item, "-")
		first, err := netip.ParseAddr(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("%w: --src %q: %w", ErrConfig, item, err)
		}
		last := first
		if isRange {
			if last, err = netip.ParseAddr(strings.TrimSpace(hi)); err != nil {
				return nil, fmt.Errorf("%w: --src %q: %w", ErrConfig, item, err)
			}
		}
		if first.BitLen() != last.BitLen() || last.Less(first) {
			return nil, fmt.Errorf("%w: --src %q: not a range from low to high", ErrConfig, item)
		}
		for a := first; ; a = a.Next() {
			if len(out) == maxSources {
				return nil, fmt.Errorf("%w: --src lists more than %d addresses", ErrConfig, maxSources)
			}
			out = append(out, a)
			if a == last {
				break
			}
		}
	}
	return out, nil
}
