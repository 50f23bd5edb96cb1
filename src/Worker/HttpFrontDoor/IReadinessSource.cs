namespace Serving.Worker.HttpFrontDoor;

internal interface IReadinessSource
{
    ValueTask<ReadinessReport> GetAsync();
}
