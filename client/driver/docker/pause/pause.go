// Package pause makes the program that runs in a task group's infra
// container: it holds the group's network namespace and does nothing else.
//
// The program is a few machine instructions in a hand-made static ELF
// file, generated here from the listing below. The client builds the infra
// image from it on the machine itself, so bridge networking needs no
// registry, no image shipped with drover and no Go toolchain on the node,
// and the tree holds no binary blob.
//
// The program sleeps forever in the kernel (pause on amd64, ppoll with no
// file descriptors and no timeout on arm64). As PID 1 of its container it
// ignores SIGTERM, so the driver removes the infra container with SIGKILL,
// which is all a process that holds nothing needs.
package pause

import (
	"encoding/binary"
	"fmt"
)

// loadAddress is where the single segment is mapped, the usual base of a
// static executable.
const loadAddress = 0x400000

// Sizes of the ELF64 file header and of one program header.
const (
	fileHeaderSize    = 64
	programHeaderSize = 56
)

// ELF machine numbers.
const (
	machineAMD64 = 62
	machineARM64 = 183
)

// code is the program for each architecture, as little-endian bytes.
var code = map[string]struct {
	machine uint16
	text    []byte
}{
	"amd64": {machineAMD64, []byte{
		0xb8, 0x22, 0x00, 0x00, 0x00, // loop: mov eax, 34 (pause)
		0x0f, 0x05, //                    syscall
		0xeb, 0xf7, //                    jmp loop
	}},
	"arm64": {machineARM64, words(
		0xd2800000, // loop: mov x0, #0 (fds = NULL)
		0xd2800001, //       mov x1, #0 (nfds = 0)
		0xd2800002, //       mov x2, #0 (timeout = NULL: forever)
		0xd2800003, //       mov x3, #0 (sigmask = NULL)
		0xd2800928, //       mov x8, #73 (ppoll)
		0xd4000001, //       svc #0
		0x17fffffa, //       b loop
	)},
}

func words(ws ...uint32) []byte {
	b := make([]byte, 0, 4*len(ws))
	for _, w := range ws {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// Binary returns the program for a GOARCH (amd64 or arm64).
func Binary(goarch string) ([]byte, error) {
	c, ok := code[goarch]
	if !ok {
		return nil, fmt.Errorf("pause: no infra program for %s; set infra_image in the docker plugin config", goarch)
	}
	const entry = fileHeaderSize + programHeaderSize
	size := uint64(entry + len(c.text))
	le := binary.LittleEndian
	b := make([]byte, 0, size)

	// File header.
	b = append(b, 0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little-endian */, 1 /* version */, 0 /* System V */)
	b = append(b, make([]byte, 8)...) // padding of e_ident
	b = le.AppendUint16(b, 2)         // e_type: executable
	b = le.AppendUint16(b, c.machine) // e_machine
	b = le.AppendUint32(b, 1)         // e_version
	b = le.AppendUint64(b, loadAddress+entry)
	b = le.AppendUint64(b, fileHeaderSize) // e_phoff: right after this header
	b = le.AppendUint64(b, 0)              // e_shoff: no sections
	b = le.AppendUint32(b, 0)              // e_flags
	b = le.AppendUint16(b, fileHeaderSize)
	b = le.AppendUint16(b, programHeaderSize)
	b = le.AppendUint16(b, 1) // e_phnum
	b = le.AppendUint16(b, 0) // e_shentsize
	b = le.AppendUint16(b, 0) // e_shnum
	b = le.AppendUint16(b, 0) // e_shstrndx

	// One loadable segment, readable and executable: the whole file.
	b = le.AppendUint32(b, 1) // p_type: PT_LOAD
	b = le.AppendUint32(b, 5) // p_flags: R + X
	b = le.AppendUint64(b, 0) // p_offset
	b = le.AppendUint64(b, loadAddress)
	b = le.AppendUint64(b, loadAddress)
	b = le.AppendUint64(b, size) // p_filesz
	b = le.AppendUint64(b, size) // p_memsz
	b = le.AppendUint64(b, 0x1000)

	return append(b, c.text...), nil
}
