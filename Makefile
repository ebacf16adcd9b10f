.PHONY: test lint build fuzz bench

test:
	go test -race -count=1 ./...

lint:
	go vet ./...
	test -z "$$(gofmt -l .)"

build:
	go build -o karyashala ./cmd/karyashala

bench:
	go test -run '^$$' -bench . -benchtime 3s ./storage/ ./ussd/... ./sms/...
