package config

import (
	"net/url"
	"strconv"
	"strings"
)

// TracingConfig says whether spans are exported and how they are sampled, from the OpenTelemetry
// specification's own variables (OTEL_*), so that an operator configures Junction as any other instrumented
// service. Tracing is off unless an OTLP endpoint is set. The OTLP exporter reads its other settings
// (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, _CERTIFICATE...) and the batch span processor its
// OTEL_BSP_* from the process environment itself; the ones here are read through [Load]'s getenv instead, because
// they decide whether tracing runs at all and tests start the program with an environment of their own.
type TracingConfig struct {
	// Endpoint is the URL the OTLP/HTTP exporter POSTs spans to: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given,
	// else OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces appended (the specification's rule). Empty when tracing
	// is off: neither is set, OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none.
	Endpoint string
	// Sampler is OTEL_TRACES_SAMPLER: always_on, always_off, traceidratio, parentbased_always_on (the default),
	// parentbased_always_off or parentbased_traceidratio. A parent-based sampler follows the sampled flag of an
	// incoming traceparent, so a caller that traces a request sees Junction's part of it.
	Sampler string
	// SamplerArg is OTEL_TRACES_SAMPLER_ARG, the ratio of the traceidratio samplers (0..1, default 1).
	SamplerArg float64
	// ServiceName is OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES' service.name, else "junction".
	ServiceName string
	// ResourceAttributes are OTEL_RESOURCE_ATTRIBUTES' key=value pairs (values percent-decoded), service.name
	// excepted, in the order given.
	ResourceAttributes [][2]string
}

// Enabled reports whether spans are exported.
func (c TracingConfig) Enabled() bool { return c.Endpoint != "" }

// The samplers of OTEL_TRACES_SAMPLER that Junction builds.
const (
	SamplerAlwaysOn                = "always_on"
	SamplerAlwaysOff               = "always_off"
	SamplerTraceIDRatio            = "traceidratio"
	SamplerParentBasedAlwaysOn     = "parentbased_always_on"
	SamplerParentBasedAlwaysOff    = "parentbased_always_off"
	SamplerParentBasedTraceIDRatio = "parentbased_traceidratio"
)

func (p *parser) tracing() TracingConfig {
	c := TracingConfig{
		Sampler:    strings.ToLower(p.str("OTEL_TRACES_SAMPLER", SamplerParentBasedAlwaysOn)),
		SamplerArg: 1,
	}
	switch c.Sampler {
	case SamplerAlwaysOn, SamplerAlwaysOff, SamplerParentBasedAlwaysOn, SamplerParentBasedAlwaysOff:
	case SamplerTraceIDRatio, SamplerParentBasedTraceIDRatio:
		if v := p.getenv("OTEL_TRACES_SAMPLER_ARG"); v != "" {
			ratio, err := strconv.ParseFloat(v, 64)
			if err != nil || ratio < 0 || ratio > 1 {
				p.fail("OTEL_TRACES_SAMPLER_ARG=%q is not a ratio between 0 and 1", v)
			} else {
				c.SamplerArg = ratio
			}
		}
	default:
		p.fail("OTEL_TRACES_SAMPLER=%q is not one of always_on, always_off, traceidratio, parentbased_always_on, "+
			"parentbased_always_off, parentbased_traceidratio", c.Sampler)
	}

	c.ServiceName = "junction"
	for _, kv := range p.resourceAttributes("OTEL_RESOURCE_ATTRIBUTES") {
		if kv[0] == "service.name" {
			c.ServiceName = kv[1]
			continue
		}
		c.ResourceAttributes = append(c.ResourceAttributes, kv)
	}
	c.ServiceName = p.str("OTEL_SERVICE_NAME", c.ServiceName)

	disabled := false
	switch v := strings.ToLower(p.getenv("OTEL_SDK_DISABLED")); v {
	case "", "false":
	case "true":
		disabled = true
	default:
		p.fail("OTEL_SDK_DISABLED=%q is not true or false", v)
	}
	for _, e := range p.list("OTEL_TRACES_EXPORTER") {
		switch e {
		case "otlp":
		case "none":
			disabled = true
		default:
			p.fail("OTEL_TRACES_EXPORTER=%q: Junction exports with otlp only (or none)", e)
		}
	}
	endpoint := p.getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		if base := p.getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); base != "" {
			endpoint = strings.TrimSuffix(base, "/") + "/v1/traces"
		}
	}
	if disabled || endpoint == "" {
		return c
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL may hold credentials: never echo it.
		p.fail("OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not an http:// or https:// URL")
		return c
	}
	// The gRPC exporter would bring gRPC into the binary for one setting: OTLP over HTTP is what every
	// collector takes too (port 4318).
	protocol := p.str("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", p.getenv("OTEL_EXPORTER_OTLP_PROTOCOL"))
	if protocol != "" && protocol != "http/protobuf" {
		p.fail("OTEL_EXPORTER_OTLP_PROTOCOL=%q: Junction exports http/protobuf only", protocol)
		return c
	}
	c.Endpoint = endpoint
	return c
}

// resourceAttributes parses the specification's key1=value1,key2=value2 list, values percent-encoded.
func (p *parser) resourceAttributes(key string) [][2]string {
	var out [][2]string
	for _, item := range p.list(key) {
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			p.fail("%s: %q is not key=value", key, item)
			continue
		}
		decoded, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			p.fail("%s: the value of %s is not percent-encoded", key, k)
			continue
		}
		out = append(out, [2]string{k, decoded})
	}
	return out
}
