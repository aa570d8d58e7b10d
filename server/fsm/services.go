package fsm

import (
	"fmt"

	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// ServiceRegistrationUpsertRequest adds or replaces service instances a
// client reported.
type ServiceRegistrationUpsertRequest struct {
	Registrations []*structs.ServiceRegistration
}

// ServiceRegistrationDeleteRequest removes service instances by ID.
type ServiceRegistrationDeleteRequest struct {
	IDs []string
}

// applyServiceRegistrations applies the service registration messages.
func applyServiceRegistrations(store *state.StateStore, t MessageType, index uint64, body []byte) error {
	switch t {
	case ServiceRegistrationUpsert:
		req, err := decode[ServiceRegistrationUpsertRequest](t, body)
		if err != nil {
			return err
		}
		return store.UpsertServiceRegistrations(index, req.Registrations)
	case ServiceRegistrationDelete:
		req, err := decode[ServiceRegistrationDeleteRequest](t, body)
		if err != nil {
			return err
		}
		return store.DeleteServiceRegistrations(index, req.IDs)
	}
	return fmt.Errorf("fsm: %w %d", ErrUnknownMessageType, uint8(t))
}

// writeServiceRegistrations adds the service instances to a snapshot.
func writeServiceRegistrations(snap *state.StateSnapshot, write func(kind string, v any) error) error {
	regs, err := snap.ServiceRegistrations(nil)
	if err != nil {
		return err
	}
	for _, r := range regs {
		if err := write(kindServiceReg, r); err != nil {
			return err
		}
	}
	return nil
}
