# A user's own runner assembly served by the end-to-end tests.
# Build it first: dotnet build tests/Fixtures/CustomRunner (outputs bin/Serving.Fixture.CustomRunner.dll).
@{
    Name       = 'fixture'
    Assemblies = @('bin/Serving.Fixture.CustomRunner.dll')
    Runners    = @(
        @{
            Name              = 'text'
            Type              = 'Serving.Fixture.TextRunner'
            Workers           = 2
            Environment       = @{ FIXTURE_GREETING = 'hello' }
            WorkerEnvironment = @(
                @{ FIXTURE_DEVICE = 'gpu0' }
                @{ FIXTURE_DEVICE = 'gpu1' }
            )
        }
    )
    Apis       = @(
        @{ Route = '/reverse'; Runner = 'text'; Method = 'reverse'; Input = 'Text';  Output = 'Text' }
        @{ Route = '/sum';     Runner = 'text'; Method = 'sum';     Input = 'Json';  Output = 'Json' }
        @{ Route = '/fail';    Runner = 'text'; Method = 'fail';    Input = 'Json';  Output = 'Json' }
        @{ Route = '/slow';    Runner = 'text'; Method = 'slow';    Input = 'Json';  Output = 'Json' }
        @{ Route = '/env';     Runner = 'text'; Method = 'env';     Input = 'Bytes'; Output = 'Json' }
    )
}
