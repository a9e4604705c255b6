package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTracingConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    TracingConfig
		wantErr string
	}{
		{
			name: "off by default",
			env:  map[string]string{},
			want: TracingConfig{Sampler: SamplerParentBasedAlwaysOn, SamplerArg: 1, ServiceName: "junction"},
		},
		{
			name: "the base endpoint gets the traces path",
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
			want: TracingConfig{Endpoint: "http://collector:4318/v1/traces", Sampler: SamplerParentBasedAlwaysOn, SamplerArg: 1, ServiceName: "junction"},
		},
		{
			name: "the traces endpoint is taken as given, and wins",
			env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example.com/otlp"},
			want: TracingConfig{Endpoint: "https://traces.example.com/otlp", Sampler: SamplerParentBasedAlwaysOn, SamplerArg: 1, ServiceName: "junction"},
		},
		{
			name: "sampler, ratio, service and resource",
			env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
				"OTEL_TRACES_SAMPLER_ARG": "0.1", "OTEL_SERVICE_NAME": "api-eu",
				"OTEL_RESOURCE_ATTRIBUTES":    "service.name=ignored, deployment.environment.name=prod,team=a%2Cb",
				"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_TRACES_EXPORTER": "otlp"},
			want: TracingConfig{Endpoint: "http://c:4318/v1/traces", Sampler: SamplerParentBasedTraceIDRatio, SamplerArg: 0.1,
				ServiceName: "api-eu", ResourceAttributes: [][2]string{{"deployment.environment.name", "prod"}, {"team", "a,b"}}},
		},
		{
			name: "service.name from the resource attributes",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs"},
			want: TracingConfig{Sampler: SamplerParentBasedAlwaysOn, SamplerArg: 1, ServiceName: "from-attrs"},
		},
		{
			name: "OTEL_SDK_DISABLED wins over an endpoint",
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "TRUE"},
			want: TracingConfig{Sampler: SamplerParentBasedAlwaysOn, SamplerArg: 1, ServiceName: "junction"},
		},
		{
			name: "OTEL_TRACES_EXPORTER=none turns it off",
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"},
			want: TracingConfig{Sampler: SamplerParentBasedAlwaysOn, SamplerArg: 1, ServiceName: "junction"},
		},
		{name: "unknown sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote"}, wantErr: "OTEL_TRACES_SAMPLER"},
		{name: "ratio above one", env: map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "10"}, wantErr: "OTEL_TRACES_SAMPLER_ARG"},
		{name: "bad disabled flag", env: map[string]string{"OTEL_SDK_DISABLED": "yes"}, wantErr: "OTEL_SDK_DISABLED"},
		{name: "gRPC", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, wantErr: "http/protobuf only"},
		{name: "another exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, wantErr: "OTEL_TRACES_EXPORTER"},
		{name: "malformed resource", env: map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "novalue"}, wantErr: "OTEL_RESOURCE_ATTRIBUTES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"DATABASE_URL": "postgres://db"}
			for k, v := range tt.env {
				env[k] = v
			}
			c, err := Load(func(k string) string { return env[k] })
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, c.Tracing)
			require.Equal(t, tt.want.Endpoint != "", c.Tracing.Enabled())
		})
	}
}

func TestTracingEndpointWithCredentialsIsNeverEchoed(t *testing.T) {
	t.Parallel()
	_, err := Load(func(k string) string {
		return map[string]string{"DATABASE_URL": "x", "OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://user:s3cret@collector"}[k]
	})
	require.ErrorContains(t, err, "OTEL_EXPORTER_OTLP_ENDPOINT")
	require.NotContains(t, err.Error(), "s3cret")
}
