# variables shows input variables, locals and functions. Run it with, for
# example:
#
#   drover job run -var version=v2 -var instances=3 examples/variables.hcl
#
# "${NOMAD_...}" and "${node...}" references are not variables of this file:
# they are kept as written and filled in by the client running the task.

variable "version" {
  type        = string
  default     = "v1"
  description = "Tag of the drover-demo image to run."
}

variable "instances" {
  type    = number
  default = 2
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

locals {
  image  = "drover-demo:${var.version}"
  labels = { app = "demo", version = var.version }
}

job "demo" {
  datacenters = var.datacenters

  meta {
    image = local.image
  }

  group "web" {
    count = var.instances

    network {
      port "http" {
        to = 8080
      }
    }

    task "app" {
      driver = "docker"

      config {
        image  = local.image
        ports  = ["http"]
        labels = local.labels
      }

      env {
        VERSION = upper(var.version)
        NODE    = "${node.unique.name}"
        ADDR    = "http://${NOMAD_ADDR_http}/"
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
