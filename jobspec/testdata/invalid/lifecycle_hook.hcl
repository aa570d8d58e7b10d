job "example" {
  group "web" {
    task "init" {
      driver = "docker"

      lifecycle {
        hook = "before"
      }
    }
    task "side" {
      driver = "docker"

      lifecycle {
        sidecar = true
      }
    }
  }
}
