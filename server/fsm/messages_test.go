package fsm

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/drover-project/drover/structs"
)

func TestEncodeIsTypeByteThenMarshal(t *testing.T) {
	req := &JobRegisterRequest{Job: &structs.Job{ID: "web<&>", Meta: map[string]string{"k": "v"}}, Eval: &structs.Evaluation{ID: "e1"}}
	got, err := Encode(JobRegister, req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte{byte(JobRegister)}, body...); !bytes.Equal(got, want) {
		t.Fatalf("Encode = %q\nwant     %q", got, want)
	}
}
