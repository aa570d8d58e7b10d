# Runtime references are kept for the client; var and local are resolved.
variable "port_label" {
  default = "http"
}

locals {
  data_dir = "${NOMAD_ALLOC_DIR}/data"
}

job "refs" {
  datacenters = ["*"]

  group "web" {
    network {
      port "http" {
        to = 8080
      }
    }

    task "app" {
      driver = "docker"

      config {
        image = "drover-demo:v1"
        ports = [var.port_label]
        args = [
          "--listen", "0.0.0.0:${NOMAD_PORT_http}",
          "--data", local.data_dir,
          "--node", "${node.unique.name}",
        ]
        labels {
          kernel = "${attr.kernel.name}"
          class  = "${meta.class}"
        }
      }

      env {
        PORT    = "${NOMAD_PORT_http}"
        SHELL   = "${env["SHELL"]}"
        JOB     = "${NOMAD_JOB_NAME}"
        LITERAL = "$${NOT_INTERPOLATED}"
      }
    }
  }
}
