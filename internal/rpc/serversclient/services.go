package serversclient

import (
	"context"

	"github.com/drover-project/drover/structs"
)

// UpsertServiceRegistrations reports service instances this client runs.
func (s *Servers) UpsertServiceRegistrations(ctx context.Context, regs []*structs.ServiceRegistration) error {
	return s.call(ctx, "Endpoints.UpsertServiceRegistrations", &structs.ServiceRegistrationsArgs{Registrations: regs}, nil)
}

// DeleteServiceRegistrations reports instances this client stopped.
func (s *Servers) DeleteServiceRegistrations(ctx context.Context, ids []string) error {
	return s.call(ctx, "Endpoints.DeleteServiceRegistrations", &structs.ServiceDeregistrationArgs{IDs: ids}, nil)
}
