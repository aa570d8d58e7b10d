package structs

// ServiceRegistrationListStub is one namespace's services, as Nomad's
// GET /v1/services lists them.
type ServiceRegistrationListStub struct {
	Namespace string
	Services  []*ServiceRegistrationStub
}

// ServiceRegistrationStub is one service: its name and the union of its
// instances' tags.
type ServiceRegistrationStub struct {
	ServiceName string
	Tags        []string
}

// ServiceRegistrationsArgs carries instances a client registers or updates.
type ServiceRegistrationsArgs struct {
	Registrations []*ServiceRegistration
}

// ServiceDeregistrationArgs carries the IDs of instances to remove.
type ServiceDeregistrationArgs struct {
	IDs []string
}
