job "api" {
  group "web" {
    service {
      port = "http"
      check {
        type    = "http"
        colour  = "red"
      }
      check_restart {}
    }
    task "app" {
      driver = "docker"
      config { image = "x:1" }
    }
  }
}
