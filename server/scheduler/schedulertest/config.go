package schedulertest

import "github.com/drover-project/drover/structs"

// SetSchedulerConfig sets the configuration the scheduler reads; nil
// returns to the defaults.
func (s *State) SetSchedulerConfig(cfg *structs.SchedulerConfiguration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.config = cfg.Copy()
}

// SchedulerConfig implements scheduler.ConfigState.
func (s *State) SchedulerConfig() (*structs.SchedulerConfiguration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.config == nil {
		return structs.DefaultSchedulerConfiguration(), nil
	}
	return s.config.Copy(), nil
}
