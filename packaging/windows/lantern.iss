; Inno Setup 6 script for Lantern (packaging). Build steps: packaging/README.md.
;
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\lantern.iss
;
; Input:  dist\Lantern\  (the PyInstaller one-folder build: Lantern.exe, lantern-console.exe, _internal\)
; Output: dist\installer\Lantern-<version>-setup.exe
;
; Installs for all users in Program Files, creates C:\ProgramData\Lantern (writable by every user of the
; ward PC, because everyone's sign-in and sign-out writes to the store there), gives that folder an ACL of its
; own (inheritance removed: SYSTEM and Administrators full control, the PC's Users modify, nobody else; see
; docs/admin-guide.md "File permissions"), runs the self-test at the end and never removes the store or
; backups on uninstall.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{FD1DD03D-DC5A-458B-AE8F-1E935C024EF8}
AppName=Lantern
AppVersion={#AppVersion}
AppVerName=Lantern {#AppVersion}
AppPublisher=Lantern project
DefaultDirName={autopf}\Lantern
DefaultGroupName=Lantern
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SourceDir=..\..
OutputDir=dist\installer
OutputBaseFilename=Lantern-{#AppVersion}-setup
SetupIconFile=resources\icons\lantern.ico
UninstallDisplayIcon={app}\Lantern.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; An update installs over the old version: close Lantern first (the store is not in {app}).
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Dirs]
; The shared store lives here by default (core.paths.shared_data_dir). Every user must be able to write it.
Name: "{commonappdata}\Lantern"; Permissions: users-modify; Flags: uninsneveruninstall

[Registry]
; No crash dump of Lantern's memory (which holds the database key while a store is open): Windows Error
; Reporting leaves these programs out (its ExcludedApplications list). Removed again on uninstall.
Root: HKLM; Subkey: "SOFTWARE\Microsoft\Windows\Windows Error Reporting\ExcludedApplications"; ValueType: dword; ValueName: "Lantern.exe"; ValueData: 1; Flags: uninsdeletevalue
Root: HKLM; Subkey: "SOFTWARE\Microsoft\Windows\Windows Error Reporting\ExcludedApplications"; ValueType: dword; ValueName: "lantern-console.exe"; ValueData: 1; Flags: uninsdeletevalue

[Files]
Source: "dist\Lantern\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "docs\admin-guide.md"; DestDir: "{app}\docs"; Flags: ignoreversion skipifsourcedoesntexist

[InstallDelete]
; Remove the previous version's runtime so no stale module is left beside the new one.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\Lantern"; Filename: "{app}\Lantern.exe"; WorkingDir: "{app}"
Name: "{group}\Lantern self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\lantern-console.exe"" --self-test"; WorkingDir: "{app}"
Name: "{commondesktop}\Lantern"; Filename: "{app}\Lantern.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Put a Lantern icon on every user's desktop"; Flags: checkedonce

[Run]
Filename: "{app}\Lantern.exe"; Description: "Start Lantern now"; Flags: nowait postinstall skipifsilent unchecked

[Code]
{ After installing: give C:\ProgramData\Lantern an ACL of its own, then run the self-test; stop with a plain
  message if this PC cannot run Lantern safely. The ACL drops what the folder inherits from C:\ProgramData
  (CREATOR OWNER and any broader grants) and leaves SYSTEM (S-1-5-18) and Administrators (S-1-5-32-544) full
  control and the PC's Users (S-1-5-32-545) modify, for the folder and everything made in it. SIDs, not names,
  so it works on any Windows language. Running it again on an update changes nothing. }
procedure CurStepChanged(CurStep: TSetupStep);
var
  ResultCode: Integer;
  LogFile: String;
begin
  if CurStep = ssPostInstall then
  begin
    if not Exec(ExpandConstant('{sys}\icacls.exe'),
                '"' + ExpandConstant('{commonappdata}\Lantern') + '" /inheritance:r /grant:r ' +
                '*S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-32-545:(OI)(CI)M',
                '', SW_HIDE, ewWaitUntilTerminated, ResultCode) or (ResultCode <> 0) then
      SuppressibleMsgBox('Lantern is installed, but the permissions of ' + ExpandConstant('{commonappdata}\Lantern') +
                         ' could not be set. Ask IT to set them as the admin guide describes.', mbError, MB_OK, IDOK);
    LogFile := ExpandConstant('{app}\self-test-result.txt');
    if not Exec(ExpandConstant('{cmd}'),
                '/c ""' + ExpandConstant('{app}\lantern-console.exe') + '" --self-test > "' + LogFile + '" 2>&1"',
                ExpandConstant('{app}'), SW_HIDE, ewWaitUntilTerminated, ResultCode) or (ResultCode <> 0) then
      SuppressibleMsgBox('Lantern is installed, but its self-test failed on this computer. ' +
                         'Do not use it until IT has looked at ' + LogFile + '.', mbError, MB_OK, IDOK);
  end;
end;
