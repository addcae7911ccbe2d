package channels

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Operation is something a token may allow on channels.
type Operation string

// Operations a capability grants (docs/protocol.md,
// "Tokens and capabilities").
const (
	OpSubscribe Operation = "subscribe"
	// OpPublish covers client events and herald:publish.
	OpPublish Operation = "publish"
	// OpPresence allows joining a presence channel, and so subscribing to it.
	OpPresence Operation = "presence"
	OpHistory  Operation = "history"
)

// Limits of a capability set, so that a token cannot make matching costly.
const (
	MaxCapabilityPatterns = 100
	MaxPatternLen         = MaxChannelNameLen
)

// Capabilities maps channel-name patterns to the operations they allow. In
// a pattern, '*' matches any run of characters (possibly empty); every
// other character matches itself.
type Capabilities map[string][]Operation

// ParseCapabilities decodes and validates a capabilities JSON object.
func ParseCapabilities(raw []byte) (Capabilities, error) {
	var c Capabilities
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, BadRequest("capabilities", "capabilities must be an object of pattern: [operations]")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks every pattern and operation.
func (c Capabilities) Validate() error {
	if len(c) > MaxCapabilityPatterns {
		return BadRequest("capabilities", fmt.Sprintf("at most %d patterns", MaxCapabilityPatterns))
	}
	for p, ops := range c {
		if p == "" || len(p) > MaxPatternLen {
			return BadRequest("capabilities", fmt.Sprintf("patterns must be 1 to %d characters", MaxPatternLen))
		}
		for i := 0; i < len(p); i++ {
			if b := p[i]; b != '*' && b != '#' && !channelNameChar(b) {
				return BadRequest("capabilities", fmt.Sprintf("pattern %q has an invalid character", p))
			}
		}
		if len(ops) == 0 {
			return BadRequest("capabilities", fmt.Sprintf("pattern %q grants no operation", p))
		}
		for _, op := range ops {
			switch op {
			case OpSubscribe, OpPublish, OpPresence, OpHistory:
			default:
				return BadRequest("capabilities", fmt.Sprintf("unknown operation %q", op))
			}
		}
	}
	return nil
}

// Allows reports whether op on channel is granted by some pattern. The
// presence operation also grants subscribing to presence channels.
func (c Capabilities) Allows(channel string, op Operation) bool {
	presence := strings.HasPrefix(channel, PrefixPresence)
	for p, ops := range c {
		if !MatchPattern(p, channel) {
			continue
		}
		for _, o := range ops {
			if o == op || (op == OpSubscribe && o == OpPresence && presence) {
				return true
			}
		}
	}
	return false
}

// MatchPattern reports whether name matches pattern, where '*' matches any
// run of characters. It runs in O(len(pattern)·len(name)) at worst, never
// exponentially, whatever the number of stars.
func MatchPattern(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			// Let the last star absorb one more character and retry.
			mark++
			p, n = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
