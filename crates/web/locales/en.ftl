# Lantern interface text: English.
# Every message here must exist in every other locale file (a test checks).

## Frame
skip-to-content = Skip to content
nav-label = Main
nav-dashboard = Dashboard
nav-people = People
nav-households = Households
nav-users = Users
nav-sites = Sites
nav-audit = Audit trail
nav-account = My account
nav-logout = Log out
back-home = Back to the start page
any = Any
count = Count
actions = Actions
save = Save
cancel = Cancel
edit = Edit
no-site = No site
form-has-errors = Some fields need attention:
pager-label = Pages
pager-previous = Previous
pager-next = Next
pager-position = Page { $page }
record-id = Record id
record-version = Version { $version }

## Login and setup
login-title = Log in
login-submit = Log in
login-failed = The name, password or code is not right.
login-throttled = Too many failed attempts. Wait 15 minutes and try again.
setup-title = Create the first administrator
setup-intro = This link works once. The account you create here manages users and settings; choose a long passphrase and keep it safe.
setup-submit = Create administrator
setup-done = The administrator account was created. You can log in now.
password-help = At least 12 characters. A phrase of several words is easy to remember and hard to guess.
password-mismatch = The two passwords differ.
password-wrong = This is not your current password.
password-change = Change password
password-changed = Your password was changed.

## Dashboard
dashboard-title = Dashboard
dashboard-people = People registered
dashboard-households = Households
dashboard-by-status = By residence status
dashboard-by-site = By site

## People
people-title = People
people-count = { $count ->
    [one] One person found
   *[other] { $count } people found
}
search-name = Name (any script)
search-name-help = Each word matches the start of a name: “zah hos”, “زهرا”.
search-birth-year = Birth year
search-submit = Search
person-title = Person
person-new-title = Register a person
person-edit-title = Edit person
person-section-identity = Identity
person-section-residence = Residence
person-section-protected = Protected information
person-conflict = Someone else changed this record while you were editing. Reload the record, then apply your changes again.
person-delete = Delete this record
person-delete-confirm = Delete this record? Its history is kept.
names-help = Write each name as it is written: in Persian or Arabic script, or in a Latin spelling. Add other spellings and names as aliases.
name-n = Name { $n }
name-kind-auto = (first: primary, others: alias)
birth-date-help = YYYY-MM-DD, YYYY-MM, YYYY, or a range YYYY..YYYY when only approximate.
household-id-help = The household's record id (shown on the household's page).
protected-help = Encrypted when stored; only some roles can read it, and every read is logged.
protected-none = Nothing protected is recorded.
protected-hidden = Protected information exists; your role cannot read it.
protected-show = Show protected information
protected-read-will-be-logged = This read will be logged.
protected-read-logged = Your reading of this information has been logged.
family-title = Family
family-none = No family links recorded.
family-kind = Relation
family-relative-id = Relative's record id
family-relative-help = Open the relative's record and copy its id from the bottom of the page.
family-add = Add relation
family-remove = Remove
history-title = History
history-field = Field
history-before = Before
history-after = After
history-protected-changed = Protected information changed (its content is not kept in the history).

## Households
households-title = Households
household-title = Household
household-create = Create household
household-members = Members
household-member-count = { $count ->
    [one] One member
   *[other] { $count } members
}
household-add-member = Register a member

## Administration
users-title = Users
user-create = Create user
user-state = State
user-active = Active
user-disabled = Disabled
user-enable = Enable
user-disable = Disable
sites-title = Sites
site-create = Create site

## Audit
audit-title = Audit trail
audit-export = Export as CSV
audit-count = { $count } events
audit-time = Time
audit-actor = Who
audit-action = Action
audit-record = Record
audit-detail = Detail
audit-address = Address
audit-from = From
audit-until = Until

## Account
account-title = My account
totp-title = Second factor (one-time codes)
totp-on = One-time codes are required when you log in.
totp-off = Protect your account with codes from an authenticator app.
totp-start = Set up one-time codes
totp-setup-help = Add this key to your authenticator app (or open the link below on your phone), then type the code it shows.
totp-confirm = Confirm and turn on
totp-disable = Turn off one-time codes
totp-wrong-code = The code is not right. Check your phone's clock and try the new code.
totp-enabled = One-time codes are now required when you log in.
totp-disabled = One-time codes were turned off.
tokens-title = API tokens
tokens-help = A token lets a program use the JSON API with your permissions. It is shown once; keep it like a password.
token-create = Create token
token-created = Your new token (it will not be shown again):
token-created-at = Created
token-last-used = Last used
token-revoke = Revoke
token-revoked = Revoked

## Fields
field-username = Login name
field-display-name = Full name
field-password = Password
field-password-confirm = Password again
field-initial-password = First password
field-current-password = Current password
field-new-password = New password
field-totp-code = One-time code
field-totp-code-help = Only if you set up one-time codes.
field-role = Role
field-language = Language
field-names = Names
field-names-text = Name
field-names-kind = Kind of name
field-names-language = Language
field-father-name = Father's name
field-mother-name = Mother's name
field-sex = Sex
field-birth-date = Birth date
field-birth-place = Birth place
field-nationality = Nationality
field-status = Residence status
field-site = Site
field-site-id = Site
field-block = Block
field-room = Room
field-household-id = Household
field-documents = Identity documents
field-documents-kind = Document
field-documents-number = Number
field-documents-issuer = Issued by
field-contact = Contact details
field-notes = Notes
field-label = Name of the household
field-name = Name
field-relative-id = Relative
field-kind = Relation
field-version = Version
field-token = Setup link
field-token-name = Token name
field-q = Name
field-year = Birth year
field-code = One-time code
field-lang = Language

## Values
role-administrator = Administrator
role-registrar = Registrar
role-caseworker = Caseworker
role-interviewer = Interviewer
role-family_liaison = Family liaison
role-documenter = Documenter
role-external_official = External official
role-auditor = Auditor
status-resident = Resident
status-departed = Departed
status-transferred = Transferred
status-deceased = Deceased
status-unknown = Unknown
sex-female = Female
sex-male = Male
sex-other = Other
sex-unknown = Not known
name-kind-primary = Primary
name-kind-alias = Alias
name-kind-organisational = Organisational name
name-kind-birth = Birth name
name-kind-nickname = Nickname
script-arabic = Arabic script
script-latin = Latin script
script-mixed = Mixed scripts
script-other = Other script
document-kind-passport = Passport
document-kind-national_id = National identity card
document-kind-refugee_certificate = Refugee certificate
document-kind-birth_certificate = Birth certificate
document-kind-other = Other document
link-parent = Parent
link-child = Child
link-spouse = Spouse
link-sibling = Sibling
link-other = Other relative
precision-day = exact day
precision-month = month known
precision-year = year known
precision-range = approximate
action-person_create = Person registered
action-person_update = Person edited
action-person_delete = Person deleted
action-person_read_protected = Protected information read
action-link_add = Family link added
action-link_remove = Family link removed
action-household_create = Household created
action-site_create = Site created
action-user_create = User created
action-user_update = User changed
action-account_update = Own account changed
action-setup_complete = First administrator created
action-login = Logged in
action-login_failed = Failed login
action-logout = Logged out
action-access_denied = Access refused
action-token_create = API token created
action-token_revoke = API token revoked
action-audit_export = Audit trail exported

## Errors of fields
error-required = This field is required.
error-too-long = At most { $limit } characters (or entries).
error-too-short = At least { $limit } characters.
error-forbidden-characters = Contains characters that are not allowed.
error-unknown-choice = Choose one of the offered values.
error-invalid-date = Not a valid date in one of the forms YYYY-MM-DD, YYYY-MM, YYYY or YYYY..YYYY.
error-date-in-future = The date is in the future.
error-date-too-early = The date is too early to be plausible.
error-invalid-range = The first year must not be after the second, and the range at most 30 years.
error-self-relation = A person cannot be related to themself.
error-ancestor-cycle = This relation would make a person their own ancestor.
error-duplicate = This already exists.
error-invalid-id = Not a valid record id.
error-not-found = No such record.
error-primary-name-required = Exactly one name must be the primary name.
error-invalid-number = Not a valid number.
error-invalid-format = Not in the expected form.
error-step-not-allowed = This step cannot follow the case's current step.
error-step-not-for-role = Your role does not record this step.
error-double-booked = Already booked at an overlapping time.

## Errors of requests
error-title = Error
http-not_found-title = Not found
http-not_found = There is no such page or record.
http-method_not_allowed-title = Not allowed
http-method_not_allowed = This address does not accept this kind of request.
http-unauthenticated-title = Login required
http-unauthenticated = Log in first (for the API: send a valid token).
http-forbidden-title = Not permitted
http-forbidden = Your role does not allow this. The attempt has been logged.
http-csrf-title = Form expired
http-csrf = The form was too old or did not come from this site. Go back, reload the page and try again.
http-invalid-title = Some input was refused
http-invalid = Some fields need attention.
http-conflict-title = Changed meanwhile
http-conflict = Someone else changed this record. Reload it and try again.
http-too_many_requests-title = Too many attempts
http-too_many_requests = Too many attempts. Wait a while and try again.
http-payload_too_large-title = Too large
http-payload_too_large = What was sent is larger than allowed.
http-internal-title = Something went wrong
http-internal = An unexpected error happened; nothing was half-saved. If it happens again, give the administrator the request id from this page's address bar or logs.

## Photos
photo-title = Photo
photo-alt = Photo of this person
photo-none = No photo.
photo-upload = New photo
photo-help = JPEG or PNG, at most 5 MB. Stored encrypted.
photo-save = Save photo
field-photo = Photo
field-body = Request body
action-person_photo = Photo set
password-change-required = Choose your own password before you continue: the one you received was chosen by someone else.
http-password_change_required-title = Choose your password
http-password_change_required = Change the password you were given (My account) before doing anything else.
people-count-more = More than { $count } people found: add a word, a birth year or a status to narrow the search.
similar-title = Similar names in other spellings and scripts
similar-help = Found by the matching engine: the percentage is its estimate that this is the person you searched for.
similar-probability = Likelihood
duplicates-title = This person may already be registered.
duplicates-help = Check these records first; the percentage is the estimated likelihood that it is the same person.
duplicates-confirm = This is a different person: register anyway
http-possible_duplicate = This person may already be registered: check the candidates, then repeat with confirm_new=true if it is someone else.

## Status and resettlement cases
nav-cases = Cases
cases-title = Cases
cases-count = { $count ->
    [one] One case
   *[other] { $count } cases
}
cases-order = longest waiting at their step first
case-title = Case
case-resident = Resident
case-since = Since
case-household = Household
case-obstacles = Obstacles
case-move = Record the next step
case-move-submit = Record step
case-country-help = Only for a submission: the resettlement country.
case-steps = Steps
case-no-obstacles = No obstacle recorded.
case-recorded-by = Recorded by
case-obstacle-add = Record obstacle
case-open = Open a case
case-open-household = The case covers the resident's household
person-cases = Status and resettlement cases
field-step = Step
field-expected = Current step
field-country = Country
field-obstacle = Obstacle
field-occurred-on = On
field-by-whom = By whom
field-detail = What happened
field-person-id = Resident
field-whole-household = Household
pipeline-title = Pipeline
pipeline-export = Export (HXL CSV)
pipeline-funnel = Cases that reached each step
pipeline-table = Cases per step and days waiting at the current step
pipeline-now = Now
pipeline-reached = Reached
pipeline-median = Median days waiting
pipeline-p90 = 90th percentile, days
pipeline-obstacles = Obstacles recorded
pipeline-count = Count
step-registered = Registered
step-registration_verified = Registration verified
step-interview_requested = Interview requested
step-interview_scheduled = Interview scheduled
step-interviewed = Interviewed
step-recognised = Recognised
step-rejected = Rejected
step-appeal_lodged = Appeal lodged
step-submitted = Submitted for resettlement
step-accepted = Accepted by the country
step-refused = Refused by the country
step-departure_scheduled = Departure scheduled
step-departed = Departed
step-withdrawn = Closed: withdrawn
step-deceased = Closed: deceased
step-left_otherwise = Closed: left by other means
obstacle-did_not_attend = Did not attend
obstacle-access_denied = Access to the resident denied
obstacle-interpreter_unavailable = Interpreter unavailable
obstacle-asked_elsewhere = Resident asked for the interview elsewhere
obstacle-documents_missing = Documents missing
obstacle-other_person_present = Another person present at the interview
obstacle-other = Other
action-case_create = Case opened
action-case_step = Case step recorded
action-case_obstacle = Obstacle recorded
action-interview_book = Interview booked
action-interview_close = Interview outcome recorded
action-room_create = Room added
action-interpreter_create = Interpreter added
nav-interviews = Interviews
nav-rooms = Rooms and interpreters
interviews-title = Interviews
interviews-case-title = Interviews
interviews-back-to-case = Back to the case
interviews-none = No interview.
interviews-when = When
interviews-status = Status
interviews-plan = Day plan
interviews-book = Schedule an interview
interviews-book-submit = Book
interviews-held = Held
interviews-no-show = Did not attend
interviews-cancel = Cancel
interviews-others-help = The interview is private. Name anyone present besides the resident, the interviewer and the interpreter: it is recorded as an obstacle.
interviews-no-interpreter = No interpreter
interviews-bulk = Schedule the waiting cases of this site
interviews-bulk-pick-site = Choose a site to schedule its waiting cases.
interviews-bulk-none-waiting = No case of this site waits for an interview.
interviews-bulk-waiting = { $count ->
    [one] One case waiting for an interview
   *[other] { $count } cases waiting for an interview
}
interviews-bulk-submit = Fill the free slots
interviews-bulk-booked = { $count ->
    [one] One interview booked.
   *[other] { $count } interviews booked.
}
interviews-bulk-left-out = Not booked:
interview-scheduled = Scheduled
interview-held = Held
interview-no_show = Did not attend
interview-cancelled = Cancelled
field-date = Date
field-time = Time (UTC)
field-minutes = Minutes
field-first = First interview at (UTC)
field-last-end = Last interview ends by (UTC)
field-room-id = Room
field-interviewer-id = Interviewer
field-interpreter-id = Interpreter
field-languages = Languages
field-others-present = Others present
field-outcome = Outcome
field-case = Cases
field-case-id = Case
field-interpreter-name = Name
rooms-title = Rooms and interpreters
rooms-rooms = Interview rooms
rooms-add = Add room
rooms-interpreters = Interpreters
rooms-add-interpreter = Add interpreter
rooms-languages-help = Language codes, separated by commas: fa, ar, ckb
case-notes = Notes and decisions
case-notes-help = Protected: sealed at rest; opening them is recorded in the audit trail.
case-notes-read = Open the notes
case-no-notes = No note.
case-household-copy = The household's copy
case-household-copy-help = What the household may be given: the notes a member keeps from the others are left out.
case-note-confidential = Kept from the rest of the household
case-note-about-case = The whole case
case-note-add = Add note
field-note-kind = Kind
field-about = About
field-text = Text
note-note = Note
note-decision = Decision
action-case_note_add = Case note written
action-case_notes_read = Case notes read
