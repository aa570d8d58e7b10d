locals {
  a = "${local.b}-a"
  b = "${local.a}-b"
  c = "fine"
}

job "example" {
  meta {
    a = local.a
    c = local.c
  }
}
