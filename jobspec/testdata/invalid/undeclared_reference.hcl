variable "image" {
  default = "drover-demo:v1"
}

locals {
  tag = "v1"
}

job "example" {
  group "web" {
    count = var.count

    task "app" {
      driver = "docker"
      config {
        image = "${var.image}:${local.version}"
      }
    }
  }
}
