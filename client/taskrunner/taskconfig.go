package taskrunner

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/taskenv"
	"github.com/drover-project/drover/structs"
)

// buildTaskConfig turns the task's driver config (already interpolated) and
// environment into what the driver needs.
func buildTaskConfig(alloc *structs.Allocation, task *structs.Task, env *taskenv.Env,
	dir *allocdir.AllocDir, hostIP string) (*driver.TaskConfig, error) {
	config := env.ReplaceConfig(task.Config)
	cfg := &driver.TaskConfig{
		AllocID:    alloc.ID,
		Namespace:  alloc.Namespace,
		JobID:      alloc.JobID,
		GroupName:  alloc.TaskGroup,
		TaskName:   task.Name,
		Env:        env.Map(),
		Ports:      taskenv.AllocPorts(alloc, hostIP),
		StdoutPath: dir.LogPath(task.Name, allocdir.Stdout, 0),
		StderrPath: dir.LogPath(task.Name, allocdir.Stderr, 0),
	}
	if alloc.Job != nil {
		cfg.JobName = alloc.Job.Name
		if cfg.Namespace == "" {
			cfg.Namespace = alloc.Job.Namespace
		}
	}
	cfg.DriverConfig = config
	cpu, mem, _ := taskenv.Limits(alloc, task)
	cfg.CPUShares, cfg.MemoryMB = int(cpu), int(mem)
	cfg.KillTimeout = killTimeout(task)

	var err error
	if cfg.Image, err = stringValue(config, "image"); err != nil {
		return nil, err
	}
	if cfg.Command, err = stringValue(config, "command"); err != nil {
		return nil, err
	}
	if cfg.Args, err = stringList(config, "args"); err != nil {
		return nil, err
	}
	if cfg.Entrypoint, err = stringList(config, "entrypoint"); err != nil {
		return nil, err
	}
	if cfg.PortLabels, err = stringList(config, "ports"); err != nil {
		return nil, err
	}
	if cfg.Labels, err = stringMap(config, "labels"); err != nil {
		return nil, err
	}
	return cfg, nil
}

// scalar renders a string, number or bool as text: HCL lets users write
// args = ["-p", 8080] and the driver wants strings.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func stringValue(config map[string]any, key string) (string, error) {
	v, ok := config[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := scalar(v)
	if !ok {
		return "", fmt.Errorf("config: %s must be a string, got %T", key, v)
	}
	return s, nil
}

func stringList(config map[string]any, key string) ([]string, error) {
	v, ok := config[key]
	if !ok || v == nil {
		return nil, nil
	}
	var items []any
	switch v := v.(type) {
	case []any:
		items = v
	case []string:
		return slices.Clone(v), nil
	default:
		return nil, fmt.Errorf("config: %s must be a list of strings, got %T", key, v)
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, ok := scalar(item)
		if !ok {
			return nil, fmt.Errorf("config: %s[%d] must be a string, got %T", key, i, item)
		}
		out = append(out, s)
	}
	return out, nil
}

// stringMap reads a map attribute (labels = {...}) or a block (labels {...},
// which HCL decodes as a list of maps).
func stringMap(config map[string]any, key string) (map[string]string, error) {
	v, ok := config[key]
	if !ok || v == nil {
		return nil, nil
	}
	var blocks []map[string]any
	switch v := v.(type) {
	case map[string]any:
		blocks = []map[string]any{v}
	case []map[string]any:
		blocks = v
	case []any:
		for _, item := range v {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("config: %s must be a map of strings, got a list of %T", key, item)
			}
			blocks = append(blocks, m)
		}
	case map[string]string:
		return maps.Clone(v), nil
	default:
		return nil, fmt.Errorf("config: %s must be a map of strings, got %T", key, v)
	}
	out := map[string]string{}
	for _, m := range blocks {
		for k, item := range m {
			s, ok := scalar(item)
			if !ok {
				return nil, fmt.Errorf("config: %s.%s must be a string, got %T", key, k, item)
			}
			out[k] = s
		}
	}
	return out, nil
}
