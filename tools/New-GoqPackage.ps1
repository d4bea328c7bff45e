#Requires -Version 7.6
<#
.SYNOPSIS
    Packs the built module (module/, after ./build.ps1 -Task Build) into Goq.<version>.nupkg, for Install-PSResource.
.DESCRIPTION
    The package is made by PSResourceGet itself (Compress-PSResource, which ships with pwsh 7.6), from a copy of the
    module folder: the manifest, the format views, the generated help and bin/. Native SQLite libraries are kept
    only for the platforms pwsh runs on. Run in a fresh pwsh: Compress-PSResource validates the manifest.
.EXAMPLE
    pwsh -NoProfile -File tools/New-GoqPackage.ps1 -ModuleDir ./module -OutDir ./artifacts
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDir,
    [Parameter(Mandatory)] [string] $OutDir
)

$ErrorActionPreference = 'Stop'
$ModuleDir = (Resolve-Path $ModuleDir).Path
foreach ($required in 'Goq.psd1', 'bin/Goq.dll', 'en-US/Goq.dll-Help.xml') {
    if (-not (Test-Path (Join-Path $ModuleDir $required))) { throw "$ModuleDir has no ${required}: build the module first (./build.ps1 -Task Build)" }
}

# The platforms pwsh 7 is released for; SQLite's package brings native libraries for many more.
$keep = 'linux-x64', 'linux-arm', 'linux-arm64', 'linux-musl-x64', 'linux-musl-arm64', 'osx-x64', 'osx-arm64', 'win-x64', 'win-x86', 'win-arm64'

$stage = Join-Path ([System.IO.Path]::GetTempPath()) ('goq-package-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
$target = Join-Path $stage 'Goq' # Compress-PSResource names the package after the manifest, found in this folder
try {
    New-Item -ItemType Directory -Force $target | Out-Null
    Copy-Item -Recurse (Join-Path $ModuleDir '*') $target
    Get-ChildItem (Join-Path $target 'bin/runtimes') -Directory -ErrorAction SilentlyContinue |
        Where-Object Name -NotIn $keep | Remove-Item -Recurse -Force

    New-Item -ItemType Directory -Force $OutDir | Out-Null
    $version = (Import-PowerShellDataFile (Join-Path $target 'Goq.psd1')).ModuleVersion
    $package = Join-Path $OutDir "Goq.$version.nupkg"
    Remove-Item $package -ErrorAction SilentlyContinue
    Compress-PSResource -Path $target -DestinationPath $OutDir
    if (-not (Test-Path $package)) { throw "Compress-PSResource made no $package" }
    Get-Item $package
}
finally {
    Remove-Item -Recurse -Force $stage -ErrorAction SilentlyContinue
}
