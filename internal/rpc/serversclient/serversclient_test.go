package serversclient_test

import (
	"github.com/drover-project/drover/client"
	"github.com/drover-project/drover/internal/rpc/serversclient"
)

// Servers is what a remote client uses to reach the control plane.
var _ client.Servers = (*serversclient.Servers)(nil)
