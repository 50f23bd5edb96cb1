using System.Buffers;
using System.Text.Json;
using Serving.Worker.Errors;
using Serving.Worker.Transport;

namespace Serving.Worker.HttpFrontDoor;

internal interface IReadinessSource
{
    ValueTask<ReadinessReport> GetAsync();
}
