package taskenv

import "strings"

// Replace resolves each ${...} in s:
//
//	${NOMAD_ALLOC_ID}, ${env["X"]}   a variable of the task's environment
//	${attr.kernel.name}             a node attribute
//	${meta.rack}                    a node meta value
//	${node.unique.id}, ${node.unique.name}, ${node.datacenter}, ${node.class}, ${node.pool}
//
// A reference that names nothing known is left as written, as Nomad does,
// so a typo shows up in the task's output instead of vanishing.
func (e *Env) Replace(s string) string {
	var b strings.Builder
	for {
		start := strings.Index(s, "${")
		if start < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := strings.IndexByte(s[start:], '}')
		if end < 0 {
			b.WriteString(s)
			return b.String()
		}
		end += start
		b.WriteString(s[:start])
		if val, ok := e.lookup(strings.TrimSpace(s[start+2 : end])); ok {
			b.WriteString(val)
		} else {
			b.WriteString(s[start : end+1])
		}
		s = s[end+1:]
	}
}

// ReplaceConfig returns a copy of a driver config with every string value
// (in lists and nested maps too) interpolated. Keys are left alone.
func (e *Env) ReplaceConfig(config map[string]any) map[string]any {
	if config == nil {
		return nil
	}
	out := make(map[string]any, len(config))
	for k, v := range config {
		out[k] = e.replaceValue(v)
	}
	return out
}

func (e *Env) replaceValue(v any) any {
	switch v := v.(type) {
	case string:
		return e.Replace(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = e.replaceValue(x)
		}
		return out
	case map[string]any:
		return e.ReplaceConfig(v)
	case []map[string]any:
		out := make([]map[string]any, len(v))
		for i, m := range v {
			out[i] = e.ReplaceConfig(m)
		}
		return out
	default:
		return v
	}
}

func (e *Env) lookup(ref string) (string, bool) {
	if name, ok := cutEnvIndex(ref); ok {
		return e.Get(name)
	}
	if name, ok := strings.CutPrefix(ref, "attr."); ok {
		val, ok := e.node.Attributes[name]
		return val, ok
	}
	if name, ok := strings.CutPrefix(ref, "meta."); ok {
		val, ok := e.node.Meta[name]
		return val, ok
	}
	switch ref {
	case "node.unique.id":
		return e.node.ID, true
	case "node.unique.name":
		return e.node.Name, true
	case "node.datacenter":
		return e.node.Datacenter, true
	case "node.class":
		return e.node.NodeClass, true
	case "node.pool":
		return e.node.NodePool, true
	}
	return e.Get(ref)
}

// cutEnvIndex parses env["NAME"] into NAME.
func cutEnvIndex(ref string) (string, bool) {
	rest, ok := strings.CutPrefix(ref, `env[`)
	if !ok {
		return "", false
	}
	rest, ok = strings.CutSuffix(rest, `]`)
	if !ok || len(rest) < 2 || rest[0] != '"' || rest[len(rest)-1] != '"' {
		return "", false
	}
	return rest[1 : len(rest)-1], true
}
