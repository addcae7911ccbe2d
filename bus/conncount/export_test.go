package conncount

import "context"

// ReportNow runs one report round at once, as Run's loop does every
// ReportInterval, so that tests step the reporter with an injected clock.
// It must not run concurrently with Run.
func (c *Counter) ReportNow(ctx context.Context) { c.report.round(ctx) }
