# hello runs two instances of the demo web app. Each instance gets a
# dynamic host port, mapped to port 8080 inside its container.
job "hello" {
  type        = "service"
  datacenters = ["*"]

  group "web" {
    count = 2

    network {
      port "http" {
        to = 8080
      }
    }

    task "app" {
      driver = "docker"

      config {
        image = "drover-demo:v1"
        ports = ["http"]
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
