job "example" {
  group "web" {
    volume "certs" {
      type   = "csi"
      source = "certs"
    }
    task "app" {
      driver = "docker"
      config {
        image      = "drover-demo:v1"
        privliged  = true
        privileged = "yes"
        mounts {
          type = "bind"
        }
      }
      volume_mount {
        volume = "certs"
      }
    }
  }
}
