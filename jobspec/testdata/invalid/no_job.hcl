variable "image" {
  default = "drover-demo:v1"
}
