namespace Serving.Worker.Tests; public class Placeholder { [Fact] public void Ok() { } }
