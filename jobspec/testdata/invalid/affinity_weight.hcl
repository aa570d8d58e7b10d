job "example" {
  affinity {
    attribute = "${node.class}"
    value     = "fast"
    weight    = 150
  }
}
