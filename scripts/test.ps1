# Every test on Windows: the playground test drives an installed Edge or Chrome (found in the usual places,
# or named by $env:QWENASPIRE_BROWSER); then the solution's tests. Extra arguments go to `dotnet test`.
$ErrorActionPreference = 'Stop'
Set-Location (Join-Path $PSScriptRoot '..')

$candidates = @(
    $env:QWENASPIRE_BROWSER,
    "${env:ProgramFiles(x86)}\Microsoft\Edge\Application\msedge.exe",
    "$env:ProgramFiles\Microsoft\Edge\Application\msedge.exe",
    "$env:ProgramFiles\Google\Chrome\Application\chrome.exe",
    "${env:ProgramFiles(x86)}\Google\Chrome\Application\chrome.exe",
    "$env:LOCALAPPDATA\Google\Chrome\Application\chrome.exe"
) | Where-Object { $_ -and (Test-Path $_) }
if (-not $candidates) {
    Write-Warning 'No Edge or Chrome found: PlaygroundTests will fail. Install Microsoft Edge or Google Chrome, or set QWENASPIRE_BROWSER.'
}

dotnet test QwenAspire.sln -c Release @args
exit $LASTEXITCODE
