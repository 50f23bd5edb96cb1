# No-code ONNX runners through a real host: the demo's iris.onnx served from a manifest with no code,
# called over HTTP, compared with the compiled demo classifier, and the errors a user can make.

BeforeAll {
    . $PSScriptRoot/Common.ps1
    . $PSScriptRoot/HostHelpers.ps1
    $script:DemoDirectory = Join-Path (Split-Path (Get-Module Serving).Path) 'demo'
    $script:IrisModel = Join-Path $DemoDirectory 'iris.onnx'

    function New-OnnxManifest {
        <# .SYNOPSIS A manifest in TestDrive serving a copy of the demo's iris.onnx under models/, with extra runner keys. #>
        param([string] $Runner = '', [string] $Api = '', [byte[]] $Model)
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory (Join-Path $dir 'models')
        if ($Model) { [IO.File]::WriteAllBytes((Join-Path $dir 'models/iris.onnx'), $Model) }
        else { Copy-Item $IrisModel (Join-Path $dir 'models/iris.onnx') }
        $path = Join-Path $dir 'service.psd1'
        Set-Content -LiteralPath $path -Value "@{ Name = 'onnx-test'; Runners = @(@{ Name = 'iris'; Onnx = 'models/iris.onnx'; Workers = 2; IntraOpThreads = 1 $Runner }); Apis = @(@{ Route = '/predict'; Runner = 'iris'; Method = 'predict' $Api }) }"
        return $path
    }
}

AfterAll {
    Remove-AllServingHosts
}

Describe 'A host serving an ONNX model with no code' {
    AfterEach {
        # Every test cleans up its hosts and jobs, even when it failed.
        Remove-AllServingHosts
    }

    It 'answers predict over HTTP, one row, rows and a bare array, like the compiled classifier' {
        $job = Start-ServingHost -Service (New-OnnxManifest) -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $info = Get-ServingHost -Name $job.Name
        $info.State | Should -Be 'Running'
        $info.Workers.Name | Should -Be @('iris-1', 'iris-2', 'api-1')

        $one = Invoke-RestMethod "$($info.Url)/predict" -Method Post -Body '{"features":[5.1,3.5,1.4,0.2]}' -ContentType 'application/json'
        $one.label | Should -Be 0
        @($one.probabilities).Count | Should -Be 3

        $rows = Invoke-RestMethod "$($info.Url)/predict" -Method Post -Body '{"features":[[5.1,3.5,1.4,0.2],[6.0,2.9,4.5,1.5],[6.7,3.0,5.2,2.3]]}' -ContentType 'application/json'
        $rows.label | Should -Be @(0, 1, 2)

        $bare = Invoke-RestMethod "$($info.Url)/predict" -Method Post -Body '[6.7,3.0,5.2,2.3]' -ContentType 'application/json'
        $bare.label | Should -Be 2

        # The manifest's checks read the model without OnnxRuntime: it never loads into pwsh.
        [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name | Should -Not -Contain 'Microsoft.ML.OnnxRuntime'

        # The same answers as the demo's compiled classifier (Demo.psd1), on every row of data/iris.csv.
        $demo = Start-ServingHost -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $demoUrl = (Get-ServingHost -Name $demo.Name).Url
        $labels = @('setosa', 'versicolor', 'virginica')
        $csv = Import-Csv (Join-Path $PSScriptRoot '../../data/iris.csv')
        $csv.Count | Should -Be 150
        $features = @($csv | ForEach-Object { , @([double]$_.sepal_length, [double]$_.sepal_width, [double]$_.petal_length, [double]$_.petal_width) })
        $onnx = Invoke-RestMethod "$($info.Url)/predict" -Method Post -Body (@{ features = $features } | ConvertTo-Json -Depth 5 -Compress) -ContentType 'application/json'
        $compiled = Invoke-RestMethod "$demoUrl/classify" -Method Post -Body (@{ instances = $features } | ConvertTo-Json -Depth 5 -Compress) -ContentType 'application/json'
        for ($i = 0; $i -lt 150; $i++) {
            $labels[$onnx.label[$i]] | Should -Be $compiled[$i].label
            for ($k = 0; $k -lt 3; $k++) {
                [math]::Abs($onnx.probabilities[$i][$k] - $compiled[$i].probabilities[$k]) | Should -BeLessOrEqual 1e-5
            }
        }
    }

    It 'answers a bad shape or a wrong input name with a 400 naming the input, and keeps serving' {
        $job = Start-ServingHost -Service (New-OnnxManifest) -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1
        $info = Get-ServingHost -Name $job.Name

        $bad = Invoke-WebRequest "$($info.Url)/predict" -Method Post -Body '{"features":[5.1,3.5,1.4]}' -ContentType 'application/json' -SkipHttpErrorCheck
        $bad.StatusCode | Should -Be 400
        $problem = Get-ResponseText $bad | ConvertFrom-Json
        $problem.errorId | Should -Be 'InvalidInput'
        $problem.detail | Should -Match ([regex]::Escape("input 'features' must have shape [batch,4] (or [4] for one row); got [3]"))

        $name = Invoke-WebRequest "$($info.Url)/predict" -Method Post -Body '{"petals":[5.1,3.5,1.4,0.2]}' -ContentType 'application/json' -SkipHttpErrorCheck
        $name.StatusCode | Should -Be 400
        (Get-ResponseText $name | ConvertFrom-Json).detail | Should -Match ([regex]::Escape("its inputs are 'features' ([batch,4] float32)"))

        # Concurrent good and bad requests batched together: each answered on its own, no worker lost.
        $jobs = 1..8 | ForEach-Object {
            $body = if ($_ % 2) { '{"features":[5.1,3.5,1.4,0.2]}' } else { '{"features":[[1,2]]}' }
            Start-ThreadJob { param($u, $b) (Invoke-WebRequest "$u/predict" -Method Post -Body $b -ContentType 'application/json' -SkipHttpErrorCheck).StatusCode } -ArgumentList $info.Url, $body
        }
        $codes = $jobs | Wait-Job | Receive-Job
        $jobs | Remove-Job
        ($codes | Where-Object { $_ -eq 200 }).Count | Should -Be 4
        ($codes | Where-Object { $_ -eq 400 }).Count | Should -Be 4
        (Get-ServingHost -Name $job.Name).Workers | ForEach-Object { $_.State | Should -Be 'Running'; $_.Restarts | Should -Be 0 }
    }

    It 'serves an ONNX runner next to a compiled one, in -Development mode too' {
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory $dir
        Copy-Item $IrisModel (Join-Path $dir 'iris.onnx')
        $path = Join-Path $dir 'mixed.psd1'
        $assembly = Join-Path $DemoDirectory 'Serving.Demo.dll'
        Set-Content -LiteralPath $path -Value "@{ Name = 'mixed'; Assemblies = @('$assembly'); Runners = @(@{ Name = 'classifier'; Type = 'Serving.Demo.IrisClassifierRunner' }, @{ Name = 'iris'; Onnx = 'iris.onnx' }); Apis = @(@{ Route = '/classify'; Runner = 'classifier'; Method = 'classify' }, @{ Route = '/predict'; Runner = 'iris'; Method = 'predict'; MaxBatchSize = 8 }) }"
        foreach ($development in $false, $true) {
            $job = Start-ServingHost -Service $path -Port 0 -HostAddress 127.0.0.1 -ApiWorkers 1 -Development:$development
            $url = (Get-ServingHost -Name $job.Name).Url
            (Invoke-RestMethod "$url/classify" -Method Post -Body '[6.7,3.0,5.2,2.3]' -ContentType 'application/json').label | Should -Be 'virginica'
            (Invoke-RestMethod "$url/predict" -Method Post -Body '[6.7,3.0,5.2,2.3]' -ContentType 'application/json').label | Should -Be 2
            Stop-ServingHost -Name $job.Name -Timeout 5
        }
    }

    It 'refuses <Why> before any process starts' -ForEach @(
        @{ Why = 'a missing model'; Runner = ''; Api = ''; Model = $null; Missing = $true; Match = 'does not exist. Fix the path in Onnx' }
        @{ Why = 'a file that is not a model'; Runner = ''; Api = ''; Model = [Text.Encoding]::UTF8.GetBytes('not a model'); Missing = $false; Match = 'is not an ONNX model' }
        @{ Why = 'another method than predict'; Runner = ''; Api = "; Input = 'Json'"; Model = $null; Missing = $false; Match = '' }
        @{ Why = 'Type and Onnx together'; Runner = "; Type = 'My.Runner'"; Api = ''; Model = $null; Missing = $false; Match = 'sets both Type and Onnx' }
    ) {
        if ($Why -eq 'another method than predict') {
            $path = New-OnnxManifest
            (Get-Content -Raw $path) -replace "Method = 'predict'", "Method = 'classify'" | Set-Content -LiteralPath $path
            $Match = "use Method = 'predict'"
        }
        else {
            $path = New-OnnxManifest -Runner $Runner -Api $Api -Model $Model
        }
        if ($Missing) { Remove-Item (Join-Path (Split-Path $path) 'models/iris.onnx') }
        $err = $null
        try { Start-ServingHost -Service $path -Port 0 -HostAddress 127.0.0.1 } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidServiceManifest,*'
        $err.Exception.Message | Should -Match ([regex]::Escape($Match))
        @(Get-WorkerPids).Count | Should -Be 0
    }
}
