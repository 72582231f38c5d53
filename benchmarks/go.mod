module github.com/nodekit/nodekit/benchmarks

go 1.25

require (
	github.com/asaskevich/EventBus v0.0.0-20200907212545-49d423059eef
	github.com/kataras/go-events v0.0.3
	github.com/nodekit/nodekit v0.0.0
)

replace github.com/nodekit/nodekit => ../
