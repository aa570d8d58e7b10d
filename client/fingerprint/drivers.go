package fingerprint

import (
	"context"
	"maps"
	"time"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

// Drivers asks each driver about itself. now stamps the results.
func Drivers(ctx context.Context, drivers map[string]driver.Driver, now time.Time) map[string]*structs.DriverInfo {
	out := make(map[string]*structs.DriverInfo, len(drivers))
	for name, d := range drivers {
		fp := d.Fingerprint(ctx)
		if fp == nil {
			fp = &driver.Fingerprint{Description: "driver gave no fingerprint"}
		}
		out[name] = &structs.DriverInfo{
			Attributes:        maps.Clone(fp.Attributes),
			Detected:          fp.Detected,
			Healthy:           fp.Healthy,
			HealthDescription: fp.Description,
			UpdateTime:        now,
		}
	}
	return out
}

// DriverAttributes are the node attributes the drivers contribute:
// "driver.<name>" = "1" for each detected and healthy driver (what
// constraints test), plus each such driver's own attributes.
func DriverAttributes(infos map[string]*structs.DriverInfo) map[string]string {
	out := map[string]string{}
	for name, info := range infos {
		if !info.Detected || !info.Healthy {
			continue
		}
		out["driver."+name] = "1"
		maps.Copy(out, info.Attributes)
	}
	return out
}

// DriversChanged reports whether any driver appeared, disappeared, or
// changed detection or health: only then must the node re-register.
func DriversChanged(old, cur map[string]*structs.DriverInfo) bool {
	if len(old) != len(cur) {
		return true
	}
	for name, c := range cur {
		o, ok := old[name]
		if !ok || o.Detected != c.Detected || o.Healthy != c.Healthy {
			return true
		}
	}
	return false
}
