job "example" {
  group {
    task "app" "extra" {
      driver = "docker"
    }
  }
}
