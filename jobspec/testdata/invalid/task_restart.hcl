job "example" {
  group "web" {
    task "app" {
      driver = "docker"

      restart {
        attempts = 1
      }
    }
  }
}
