job "example" {
  group "web" {
    restart {
      interval = 30
      delay    = "15 seconds"
    }

    task "app" {
      driver       = "docker"
      kill_timeout = "forever"
    }
  }
}
