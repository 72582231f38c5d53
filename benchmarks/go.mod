module github.com/nodekit/nodekit/benchmarks

go 1.26.0

require (
	github.com/alitto/pond/v2 v2.7.1
	github.com/asaskevich/EventBus v0.0.0-20200907212545-49d423059eef
	github.com/gammazero/workerpool v1.3.0
	github.com/go-chi/chi/v5 v5.5.0
	github.com/justinas/alice v1.2.0
	github.com/kataras/go-events v0.0.3
	github.com/labstack/echo/v4 v4.16.0
	github.com/nodekit/nodekit v0.0.0
	github.com/panjf2000/ants/v2 v2.12.1
	github.com/r3labs/sse/v2 v2.10.0
	github.com/samber/ro v0.3.0
	github.com/sourcegraph/conc v0.3.0
	github.com/tmaxmax/go-sse v0.12.0
	github.com/urfave/negroni/v3 v3.1.2
	github.com/zeromicro/go-zero v1.10.3
	golang.org/x/sync v0.24.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/fatih/color v1.18.0 // indirect
	github.com/gammazero/deque v1.2.2 // indirect
	github.com/labstack/gommon v0.5.0 // indirect
	github.com/mattn/go-colorable v0.1.15 // indirect
	github.com/mattn/go-isatty v0.0.22 // indirect
	github.com/samber/lo v1.52.0 // indirect
	github.com/spaolacci/murmur3 v1.1.0 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasttemplate v1.2.2 // indirect
	go.opentelemetry.io/otel v1.40.0 // indirect
	go.opentelemetry.io/otel/trace v1.40.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	go.uber.org/automaxprocs v1.6.0 // indirect
	go.uber.org/multierr v1.9.0 // indirect
	golang.org/x/crypto v0.53.0 // indirect
	golang.org/x/exp v0.0.0-20220303212507-bbda1eaf7a17 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sys v0.46.0 // indirect
	golang.org/x/text v0.40.0 // indirect
	gopkg.in/cenkalti/backoff.v1 v1.1.0 // indirect
)

replace github.com/nodekit/nodekit => ../
