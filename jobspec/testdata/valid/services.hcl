job "api" {
  group "web" {
    network {
      port "http" { to = 8080 }
    }

    service {
      name     = "api"
      port     = "http"
      tags     = ["v1", "public"]
      provider = "nomad"
      meta {
        team = "core"
      }

      check {
        type            = "http"
        path            = "/health"
        interval        = "2s"
        timeout         = "1s"
        expected_status = 200
        header {
          X-Probe = ["drover"]
        }
        check_restart {
          limit = 3
          grace = "10s"
        }
      }

      check {
        name     = "tcp"
        type     = "tcp"
        interval = "5s"
        timeout  = "1s"
      }
    }

    task "app" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
        ports = ["http"]
      }
      service {
        port = "http"
        check {
          type     = "script"
          command  = "/app"
          args     = ["echo", "ok"]
          interval = "10s"
          timeout  = "2s"
        }
      }
    }
  }
}
