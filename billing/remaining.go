package billing

import "github.com/heraldhq/herald/channels"

// Remaining is what an account has left of its plan's message quotas in
// the current UTC day and month; a nil field is unlimited.
type Remaining struct {
	MessagesToday     *int64 `json:"messages_today"`
	MessagesThisMonth *int64 `json:"messages_this_month"`
}

// Remaining is the limits minus the account's messages counted today and
// this month, floored at 0.
func (l Limits) Remaining(today, thisMonth int64) Remaining {
	return Remaining{
		MessagesToday:     left(l.MaxMessagesPerDay, today),
		MessagesThisMonth: left(l.MaxMessagesPerMonth, thisMonth),
	}
}

func left(limit, used int64) *int64 {
	if limit == 0 {
		return nil
	}
	r := max(limit-used, 0)
	return &r
}

// ForApp is the limits as one app lives under them: each per-app limit
// (those Apply lowers settings with) replaced by the app's own setting
// where that is stricter. A setting of 0 (no history, no resume) is left
// out: in Limits 0 means unlimited, and the app's settings say it.
func (l Limits) ForApp(s channels.Settings) Limits {
	tighten(&l.MaxMessageBytes, s.MaxMessageBytes)
	tighten(&l.ClientEventRate, s.ClientEventRate)
	tighten(&l.MaxPresenceMembers, s.MaxPresenceMembers)
	tighten(&l.HistoryRetentionS, s.HistoryRetentionS)
	tighten(&l.ResumeWindowS, s.ResumeWindowS)
	return l
}

// tighten sets *limit to setting when the setting is positive and the
// limit is unlimited or above it.
func tighten(limit *int64, setting int) {
	if setting > 0 && (*limit == 0 || int64(setting) < *limit) {
		*limit = int64(setting)
	}
}
