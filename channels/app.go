package channels

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Default app settings (docs/architecture.md, "Limits and defaults"). Each
// is per app and can be changed through the admin API.
const (
	DefaultClientEvents             = false
	DefaultMaxConnections           = 0 // 0 means no limit
	DefaultMaxMessageBytes          = 10 << 10
	DefaultMaxChannelsPerPublish    = 100
	DefaultMaxPresenceMembers       = 100
	DefaultMaxPresenceUserInfoBytes = 1 << 10
	DefaultClientEventRate          = 10
	DefaultActivityTimeoutS         = 120
	DefaultResumeWindowS            = 120
	DefaultHistoryRetentionS        = 24 * 60 * 60
	DefaultCacheTTLS                = 30 * 60
)

// Upper bounds that keep one tenant's settings from hurting the platform.
const (
	MaxAppIDLen             = 64
	MaxNameLen              = 200
	MaxMessageBytesLimit    = 1 << 20
	MaxChannelsPerPublishUB = 1000
	MaxPresenceMembersUB    = 10000
	MaxUserInfoBytesUB      = 64 << 10
	MaxActivityTimeoutS     = 3600
	MaxWindowS              = 7 * 24 * 60 * 60
	MaxRetentionS           = 366 * 24 * 60 * 60
	MaxAllowedOrigins       = 100
)

var appIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidateAppID reports whether id is a legal app id.
func ValidateAppID(id string) error {
	if !appIDPattern.MatchString(id) {
		return BadRequest("id", "app id must match ^[A-Za-z0-9_-]{1,64}$")
	}
	return nil
}

// ValidateName checks a human-readable account, app or plan name: 1 to
// MaxNameLen characters, not all of them white space (a blank name lists
// as nothing, and a second one would collide with it unseen).
func ValidateName(field, name string) error {
	n := utf8.RuneCountInString(name)
	if n == 0 || n > MaxNameLen || !utf8.ValidString(name) {
		return BadRequest(field, fmt.Sprintf("%s must be 1 to %d characters", field, MaxNameLen))
	}
	if strings.TrimFunc(name, unicode.IsSpace) == "" {
		return BadRequest(field, field+" must not be blank")
	}
	return nil
}

// Settings are one app's flags and limits. The JSON names are the public
// names used by the admin API and the config KV.
type Settings struct {
	ClientEvents             bool     `json:"client_events"`
	MaxConnections           int      `json:"max_connections"`
	MaxMessageBytes          int      `json:"max_message_bytes"`
	MaxChannelsPerPublish    int      `json:"max_channels_per_publish"`
	MaxPresenceMembers       int      `json:"max_presence_members"`
	MaxPresenceUserInfoBytes int      `json:"max_presence_user_info_bytes"`
	ClientEventRate          int      `json:"client_event_rate"`
	ActivityTimeoutS         int      `json:"activity_timeout_s"`
	AllowedOrigins           []string `json:"allowed_origins"`
	ResumeWindowS            int      `json:"resume_window_s"`
	HistoryRetentionS        int      `json:"history_retention_s"`
	CacheTTLS                int      `json:"cache_ttl_s"`
}

// DefaultSettings returns the documented defaults.
func DefaultSettings() Settings {
	return Settings{
		ClientEvents:             DefaultClientEvents,
		MaxConnections:           DefaultMaxConnections,
		MaxMessageBytes:          DefaultMaxMessageBytes,
		MaxChannelsPerPublish:    DefaultMaxChannelsPerPublish,
		MaxPresenceMembers:       DefaultMaxPresenceMembers,
		MaxPresenceUserInfoBytes: DefaultMaxPresenceUserInfoBytes,
		ClientEventRate:          DefaultClientEventRate,
		ActivityTimeoutS:         DefaultActivityTimeoutS,
		AllowedOrigins:           []string{},
		ResumeWindowS:            DefaultResumeWindowS,
		HistoryRetentionS:        DefaultHistoryRetentionS,
		CacheTTLS:                DefaultCacheTTLS,
	}
}

// ActivityTimeout is ActivityTimeoutS as a duration.
func (s Settings) ActivityTimeout() time.Duration {
	return time.Duration(s.ActivityTimeoutS) * time.Second
}

// ResumeWindow is ResumeWindowS as a duration.
func (s Settings) ResumeWindow() time.Duration { return time.Duration(s.ResumeWindowS) * time.Second }

// CacheTTL is CacheTTLS as a duration.
func (s Settings) CacheTTL() time.Duration { return time.Duration(s.CacheTTLS) * time.Second }

// HistoryRetention is HistoryRetentionS as a duration.
func (s Settings) HistoryRetention() time.Duration {
	return time.Duration(s.HistoryRetentionS) * time.Second
}

type intRule struct {
	field    string
	value    int
	min, max int
}

// Validate checks every field against its range and names the first field
// that is out of range.
func (s Settings) Validate() error {
	rules := []intRule{
		{"max_connections", s.MaxConnections, 0, 1 << 30},
		{"max_message_bytes", s.MaxMessageBytes, 1, MaxMessageBytesLimit},
		{"max_channels_per_publish", s.MaxChannelsPerPublish, 1, MaxChannelsPerPublishUB},
		{"max_presence_members", s.MaxPresenceMembers, 1, MaxPresenceMembersUB},
		{"max_presence_user_info_bytes", s.MaxPresenceUserInfoBytes, 1, MaxUserInfoBytesUB},
		{"client_event_rate", s.ClientEventRate, 1, 10000},
		{"activity_timeout_s", s.ActivityTimeoutS, 1, MaxActivityTimeoutS},
		{"resume_window_s", s.ResumeWindowS, 0, MaxWindowS},
		{"history_retention_s", s.HistoryRetentionS, 0, MaxRetentionS},
		{"cache_ttl_s", s.CacheTTLS, 1, MaxWindowS},
	}
	for _, r := range rules {
		if r.value < r.min || r.value > r.max {
			return BadRequest("settings."+r.field,
				fmt.Sprintf("settings.%s must be between %d and %d", r.field, r.min, r.max))
		}
	}
	if len(s.AllowedOrigins) > MaxAllowedOrigins {
		return BadRequest("settings.allowed_origins",
			fmt.Sprintf("settings.allowed_origins holds at most %d entries", MaxAllowedOrigins))
	}
	for i, o := range s.AllowedOrigins {
		if o == "" || len(o) > MaxNameLen {
			field := originField(i)
			return BadRequest(field, fmt.Sprintf("%s must be 1 to %d characters", field, MaxNameLen))
		}
	}
	return nil
}

// Validate checks what the patch writes that Settings.Validate does not:
// the shape of each allowed origin (ValidateOrigin). It is a rule of
// writing, not of stored settings: an app saved before it keeps loading,
// and its other settings can still change; its origins, which could never
// match, are checked when replaced.
func (p SettingsPatch) Validate() error {
	if p.AllowedOrigins == nil {
		return nil
	}
	for i, o := range *p.AllowedOrigins {
		if err := ValidateOrigin(o); err != nil {
			field := originField(i)
			return BadRequest(field, fmt.Sprintf("%s %v", field, err))
		}
	}
	return nil
}

// originField is the path of the i-th allowed origin in an error.
func originField(i int) string { return fmt.Sprintf("settings.allowed_origins[%d]", i) }

// SettingsPatch is a partial update: nil fields are left as they are.
type SettingsPatch struct {
	ClientEvents             *bool     `json:"client_events,omitempty"`
	MaxConnections           *int      `json:"max_connections,omitempty"`
	MaxMessageBytes          *int      `json:"max_message_bytes,omitempty"`
	MaxChannelsPerPublish    *int      `json:"max_channels_per_publish,omitempty"`
	MaxPresenceMembers       *int      `json:"max_presence_members,omitempty"`
	MaxPresenceUserInfoBytes *int      `json:"max_presence_user_info_bytes,omitempty"`
	ClientEventRate          *int      `json:"client_event_rate,omitempty"`
	ActivityTimeoutS         *int      `json:"activity_timeout_s,omitempty"`
	AllowedOrigins           *[]string `json:"allowed_origins,omitempty"`
	ResumeWindowS            *int      `json:"resume_window_s,omitempty"`
	HistoryRetentionS        *int      `json:"history_retention_s,omitempty"`
	CacheTTLS                *int      `json:"cache_ttl_s,omitempty"`
}

// Apply returns s with the patch's non-nil fields applied. It does not
// validate; call Validate on the result.
func (p SettingsPatch) Apply(s Settings) Settings {
	setBool(&s.ClientEvents, p.ClientEvents)
	setInt(&s.MaxConnections, p.MaxConnections)
	setInt(&s.MaxMessageBytes, p.MaxMessageBytes)
	setInt(&s.MaxChannelsPerPublish, p.MaxChannelsPerPublish)
	setInt(&s.MaxPresenceMembers, p.MaxPresenceMembers)
	setInt(&s.MaxPresenceUserInfoBytes, p.MaxPresenceUserInfoBytes)
	setInt(&s.ClientEventRate, p.ClientEventRate)
	setInt(&s.ActivityTimeoutS, p.ActivityTimeoutS)
	if p.AllowedOrigins != nil {
		s.AllowedOrigins = append([]string{}, (*p.AllowedOrigins)...)
	}
	setInt(&s.ResumeWindowS, p.ResumeWindowS)
	setInt(&s.HistoryRetentionS, p.HistoryRetentionS)
	setInt(&s.CacheTTLS, p.CacheTTLS)
	return s
}

func setInt(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}
