// Package api is the Go client of drover's HTTP API. It speaks the
// Nomad-compatible /v1 routes and uses drover's structs types.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// AddressEnv names the environment variable that gives the default address.
const AddressEnv = "DROVER_ADDR"

// DefaultAddress is the agent's HTTP address when nothing else is said.
const DefaultAddress = "http://127.0.0.1:4746"

// Config says how to reach an agent.
type Config struct {
	// Address is the agent's HTTP address, "http://host:port" or
	// "host:port". Empty means $DROVER_ADDR, or DefaultAddress.
	Address string
	// Region and Namespace apply to every request that does not name its own.
	Region    string
	Namespace string
	// HTTPClient sends the requests; nil uses one without timeouts, since
	// blocking queries and followed logs wait on purpose.
	HTTPClient *http.Client
}

// Client talks to one agent.
type Client struct {
	base *url.URL
	cfg  Config
	http *http.Client
}

// NewClient checks cfg (which may be nil) and returns a client.
func NewClient(cfg *Config) (*Client, error) {
	c := Config{}
	if cfg != nil {
		c = *cfg
	}
	if c.Address == "" {
		c.Address = os.Getenv(AddressEnv)
	}
	if c.Address == "" {
		c.Address = DefaultAddress
	}
	if !strings.Contains(c.Address, "://") {
		c.Address = "http://" + c.Address
	}
	base, err := url.Parse(c.Address)
	if err != nil {
		return nil, fmt.Errorf("invalid address %q: %w", c.Address, err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("invalid address %q: want http://host:port or https://host:port", c.Address)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return &Client{base: base, cfg: c, http: c.HTTPClient}, nil
}

// Address is the agent address the client uses.
func (c *Client) Address() string { return c.base.String() }

// QueryOptions shape a read.
type QueryOptions struct {
	Region    string
	Namespace string
	// AllowStale lets any server answer, not only the leader.
	AllowStale bool
	// WaitIndex makes a blocking query: the answer comes once the data's
	// index passes it, or when WaitTime (at most 5 minutes) runs out.
	WaitIndex uint64
	WaitTime  time.Duration
	// Prefix filters lists by ID prefix.
	Prefix string
	// Params are more query parameters.
	Params map[string]string

	ctx context.Context
}

// WithContext returns a copy of q whose requests end when ctx does.
func (q *QueryOptions) WithContext(ctx context.Context) *QueryOptions {
	c := QueryOptions{}
	if q != nil {
		c = *q
	}
	c.ctx = ctx
	return &c
}

// Context is the context set by WithContext, or context.Background.
func (q *QueryOptions) Context() context.Context {
	if q == nil || q.ctx == nil {
		return context.Background()
	}
	return q.ctx
}

// QueryMeta is what the agent says about the state it answered from.
type QueryMeta struct {
	// LastIndex is the index to pass as WaitIndex to wait for a change.
	LastIndex   uint64
	KnownLeader bool
	LastContact time.Duration
}

// StatusError is an answer other than 2xx. Body is the agent's plain-text
// explanation.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("Unexpected response code: %d (%s)", e.Code, e.Body)
}

// IsNotFound reports whether err is a 404 from the agent.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// params builds the query string of a request: the client's defaults, then q's.
func (c *Client) params(q *QueryOptions) url.Values {
	v := url.Values{}
	if c.cfg.Region != "" {
		v.Set("region", c.cfg.Region)
	}
	if c.cfg.Namespace != "" {
		v.Set("namespace", c.cfg.Namespace)
	}
	if q == nil {
		return v
	}
	if q.Region != "" {
		v.Set("region", q.Region)
	}
	if q.Namespace != "" {
		v.Set("namespace", q.Namespace)
	}
	if q.AllowStale {
		v.Set("stale", "true")
	}
	if q.WaitIndex > 0 {
		v.Set("index", strconv.FormatUint(q.WaitIndex, 10))
	}
	if q.WaitTime > 0 {
		v.Set("wait", q.WaitTime.String())
	}
	if q.Prefix != "" {
		v.Set("prefix", q.Prefix)
	}
	for k, val := range q.Params {
		v.Set(k, val)
	}
	return v
}

// do sends one request and returns the response of a 2xx answer; any other
// answer is a *StatusError. in, when not nil, is sent as JSON; an
// io.Reader is sent as it is.
func (c *Client) do(ctx context.Context, method, path string, params url.Values, in any) (*http.Response, error) {
	u := c.base.JoinPath(path)
	u.RawQuery = params.Encode()
	var body io.Reader
	raw, isRaw := in.(io.Reader)
	if isRaw {
		body = raw
	} else if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if in != nil && !isRaw {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10)) // a cut message still explains
		return nil, &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(msg))}
	}
	return resp, nil
}

// query GETs path into out and returns the query meta.
func (c *Client) query(path string, q *QueryOptions, out any) (*QueryMeta, error) {
	resp, err := c.do(q.Context(), http.MethodGet, path, c.params(q), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	meta, err := parseMeta(resp.Header)
	if err != nil {
		return nil, err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return nil, fmt.Errorf("decoding answer of %s: %w", path, err)
	}
	return meta, nil
}

// write sends in with method to path, decodes the answer into out and
// returns the index the change was applied at.
func (c *Client) write(method, path string, params url.Values, in, out any) (uint64, error) {
	resp, err := c.do(context.Background(), method, path, params, in)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return 0, fmt.Errorf("decoding answer of %s: %w", path, err)
	}
	index, _ := strconv.ParseUint(resp.Header.Get("X-Nomad-Index"), 10, 64) // absent is 0
	return index, nil
}

// parseMeta reads the X-Nomad-* headers of a query's answer.
func parseMeta(h http.Header) (*QueryMeta, error) {
	meta := &QueryMeta{KnownLeader: h.Get("X-Nomad-KnownLeader") == "true"}
	if s := h.Get("X-Nomad-Index"); s != "" {
		index, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid X-Nomad-Index %q: %w", s, err)
		}
		meta.LastIndex = index
	}
	if s := h.Get("X-Nomad-LastContact"); s != "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid X-Nomad-LastContact %q: %w", s, err)
		}
		meta.LastContact = time.Duration(ms) * time.Millisecond
	}
	return meta, nil
}

// escape makes an ID safe as one path segment.
func escape(id string) string { return url.PathEscape(id) }
