package cluster

// AppendArgs adds flags to the agent's command line for its next Start,
// so a test can restart one agent differently from the others (another
// -config, say).
func (a *Agent) AppendArgs(args ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.args = append(a.args, args...)
}
