package membership

import (
	"context"
	"fmt"
	"time"
)

// firstRetryWait is the first pause of RetryJoin; the pause doubles up to
// the caller's interval, so servers started together find each other within
// a second or two while a long outage costs little.
const firstRetryWait = 500 * time.Millisecond

// RetryJoin joins addrs, trying again with back-off until one answers, ctx
// ends, or maxAttempts (0: no limit) have failed. maxWait is the longest
// pause between attempts.
func (p *Pool) RetryJoin(ctx context.Context, addrs []string, maxWait time.Duration, maxAttempts int) error {
	wait := min(firstRetryWait, maxWait)
	for attempt := 1; ; attempt++ {
		n, err := p.Join(addrs)
		if err == nil {
			p.log.Info("joined the servers' gossip pool", "addresses", addrs, "reached", n, "attempt", attempt)
			return nil
		}
		if maxAttempts > 0 && attempt >= maxAttempts {
			return fmt.Errorf("retry_join: gave up after %d attempts: %w", attempt, err)
		}
		p.log.Warn("retry_join failed; trying again", "addresses", addrs, "attempt", attempt, "wait", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, maxWait)
	}
}
