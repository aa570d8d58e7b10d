variable "ports" {
  type    = lisst(string)
  default = []
}

variable "count" {
  type    = number
  default = "many"
}

variable "count" {
  default = 1
}

variable "secret" {
  sensitive = true
  default   = "x"

  validation {
    condition = true
  }
}

variable "computed" {
  default = upper("x")
}

job "example" {
}
