job "static" {
  type        = "service"
  datacenters = ["dc1"]
  priority    = 80

  meta = {
    "com.example.owner" = "ops"
  }

  group "lb" {
    count = 1

    network {
      mode = "host"

      port "http" {
        static = 8080
        to     = 8080
      }
      port "metrics" {}
    }

    restart {
      attempts = 3
      interval = "10m"
      delay    = "20s"
      mode     = "delay"
    }

    task "proxy" {
      driver       = "docker"
      kill_timeout = "20s"
      kill_signal  = "SIGTERM"
      leader       = true

      config {
        image      = "drover-demo:v1"
        entrypoint = ["/app"]
        ports      = ["http", "metrics"]

        logging {
          type = "json-file"
        }
      }

      resources {
        cpu        = 200
        memory     = 128
        memory_max = 256
      }
    }
  }
}
