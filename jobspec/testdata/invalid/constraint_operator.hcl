job "example" {
  group "web" {
    constraint {
      attribute = "${attr.kernel.name}"
      operator  = "like"
      value     = "linux"
    }
    task "app" {
      driver = "docker"
      config {
        image = "busybox:1"
      }
    }
  }
}
