# SPDX-License-Identifier: MIT
'''ModemManager mock template for python3-dbusmock (dmscgw's tests)

One modem, speaking ModemManager's own D-Bus API (1.20) on the system bus:

  org.freedesktop.ModemManager1             /org/freedesktop/ModemManager1
      org.freedesktop.DBus.ObjectManager    GetManagedObjects, InterfacesAdded/Removed
      org.freedesktop.ModemManager1         ScanDevices, SetLogging, ... (stubs), Version
  /org/freedesktop/ModemManager1/Modem/0
      .Modem, .Modem.Modem3gpp, .Modem.Location, .Modem.Messaging, .Modem.Voice
  /org/freedesktop/ModemManager1/SMS/N      .Sms
  /org/freedesktop/ModemManager1/Call/N     .Call

As in ModemManager, the ObjectManager lists the modems only; SMS and call
objects are plain objects whose paths the Messaging and Voice interfaces give.

Start it with
    /usr/bin/python3 -m dbusmock --system --template tests/mm/modemmanager.py \
        [-l LOGFILE] [-p '{"registration_state": 1, "operator_code": "20810"}']

The test drives the "network" through org.freedesktop.DBus.Mock on
/org/freedesktop/ModemManager1 (see the methods below: ReceiveSms,
ReceiveSmsMultipart, SetRegistration, SetLocation, SetAccessTechnologies,
AddOutgoingCall, SetSendFailure, RemoveModem, AddModem, GetSentSms,
GetDeletedSms, GetHungUpCalls).

Parameters (-p JSON), all optional:
  equipment_identifier  IMEI, also Modem.EquipmentIdentifier (490154203237518)
  registration_state    MMModem3gppRegistrationState at start (2, searching)
  operator_code         MCCMNC at start ("", unknown)
  operator_name         ("" or "Mock <code>")
  access_technologies   MMModemAccessTechnology flags at start (0, unknown)
  signals_location      Location.SignalsLocation at start (false, as ModemManager)
  modem_delay           seconds before the modem appears (0: there from the
                        start; > 0: added later with InterfacesAdded, as when
                        ModemManager starts and probes the device)
  multipart_delay       seconds between the two steps of ReceiveSmsMultipart (0.3)
'''

import time

import dbus
from gi.repository import GLib

from dbusmock import MOCK_IFACE, OBJECT_MANAGER_IFACE
from dbusmock.mockobject import objects

SYSTEM_BUS = True
BUS_NAME = 'org.freedesktop.ModemManager1'
MAIN_OBJ = '/org/freedesktop/ModemManager1'
MAIN_IFACE = 'org.freedesktop.ModemManager1'
IS_OBJECT_MANAGER = True

MODEM_PATH = MAIN_OBJ + '/Modem/0'
MODEM_IFACE = MAIN_IFACE + '.Modem'
MODEM_3GPP_IFACE = MODEM_IFACE + '.Modem3gpp'
LOCATION_IFACE = MODEM_IFACE + '.Location'
MESSAGING_IFACE = MODEM_IFACE + '.Messaging'
VOICE_IFACE = MODEM_IFACE + '.Voice'
SMS_IFACE = MAIN_IFACE + '.Sms'
CALL_IFACE = MAIN_IFACE + '.Call'
PROPS_IFACE = 'org.freedesktop.DBus.Properties'

ERR_CORE = MAIN_IFACE + '.Error.Core'

# Enumerations (ModemManager-enums.h, values checked against libmm-glib 1.20)
MODEM_STATE_ENABLED = 6
MODEM_STATE_SEARCHING = 7
MODEM_STATE_REGISTERED = 8
MODEM_STATE_DISABLED = 3
REG_IDLE, REG_HOME, REG_SEARCHING, REG_DENIED, REG_UNKNOWN, REG_ROAMING = range(6)
REGISTERED = (REG_HOME, REG_ROAMING, 6, 7, 9, 10)    # incl. *-sms-only, *-csfb-not-preferred
SMS_STATE_UNKNOWN, SMS_STATE_STORED, SMS_STATE_RECEIVING, SMS_STATE_RECEIVED, \
    SMS_STATE_SENDING, SMS_STATE_SENT = range(6)
SMS_PDU_DELIVER, SMS_PDU_SUBMIT = 1, 2
SMS_STORAGE_UNKNOWN, SMS_STORAGE_SM, SMS_STORAGE_ME = 0, 1, 2
CALL_STATE_UNKNOWN, CALL_STATE_DIALING, CALL_STATE_RINGING_OUT, CALL_STATE_RINGING_IN, \
    CALL_STATE_ACTIVE, CALL_STATE_HELD, CALL_STATE_WAITING, CALL_STATE_TERMINATED = range(8)
CALL_REASON_UNKNOWN, CALL_REASON_OUTGOING_STARTED, CALL_REASON_INCOMING_NEW, \
    CALL_REASON_ACCEPTED, CALL_REASON_TERMINATED = range(5)
CALL_DIRECTION_INCOMING, CALL_DIRECTION_OUTGOING = 1, 2
LOCATION_3GPP_LAC_CI = 1

# The template's state, (re)made by load()
_mm = {}


def u(v):
    return dbus.UInt32(v)


def i(v):
    return dbus.Int32(v)


def s(v):
    return dbus.String(v)


def b(v):
    return dbus.Boolean(v)


def ao(paths):
    return dbus.Array([dbus.ObjectPath(p) for p in paths], signature='o')


def ay(data):
    return dbus.Array([dbus.Byte(int(x)) for x in data], signature='y')


def _err(name, msg):
    return dbus.exceptions.DBusException(msg, name=name)


def _obj(path):
    try:
        return objects[path]
    except KeyError:
        raise _err(ERR_CORE + '.NotFound', f'no object {path}') from None


def _changed(obj, iface, changes):
    '''Set properties of obj and emit PropertiesChanged with their values.'''
    for name, value in changes.items():
        obj.props[iface][name] = value
    obj.EmitSignal(PROPS_IFACE, 'PropertiesChanged', 'sa{sv}as',
                   [iface, dbus.Dictionary(changes, signature='sv'),
                    dbus.Array([], signature='s')])


def _modem():
    '''The modem object, or a D-Bus error when it is not there.'''
    if not _mm['modem_present']:
        raise _err(ERR_CORE + '.NotFound', 'no modem')
    return _obj(MODEM_PATH)


def _new_path(kind):
    _mm['next_' + kind] += 1
    return f'{MAIN_OBJ}/{kind}/{_mm["next_" + kind] - 1}'


def _timestamp():
    return time.strftime('%Y-%m-%dT%H:%M:%S+00:00', time.gmtime())


# ---------------------------------------------------------------------------
# Modem

def _modem_props():
    imei = _mm['imei']
    return {
        MODEM_IFACE: {
            'Sim': dbus.ObjectPath('/'),
            'SimSlots': ao([]),
            'PrimarySimSlot': u(0),
            'Bearers': ao([]),
            'SupportedCapabilities': dbus.Array([u(4 | 8)], signature='u'),
            'CurrentCapabilities': u(4 | 8),       # gsm-umts | lte
            'MaxBearers': u(1),
            'MaxActiveBearers': u(1),
            'MaxActiveMultiplexedBearers': u(1),
            'Manufacturer': s('dmscgw'),
            'Model': s('ModemManager mock'),
            'Revision': s('1.0'),
            'CarrierConfiguration': s(''),
            'CarrierConfigurationRevision': s(''),
            'HardwareRevision': s('1'),
            'DeviceIdentifier': s('0d5c6a7e0000000000000000000000000000d0d0'),
            'Device': s('/sys/devices/virtual/dmscgw-mock/modem0'),
            'Physdev': s('/sys/devices/virtual/dmscgw-mock/modem0'),
            'Drivers': dbus.Array([s('mock')], signature='s'),
            'Plugin': s('generic'),
            'PrimaryPort': s('ttyMOCK0'),
            'Ports': dbus.Array([dbus.Struct((s('ttyMOCK0'), u(3)), signature='su')],
                                signature='(su)'),     # 3: at
            'EquipmentIdentifier': s(imei),
            'UnlockRequired': u(1),                     # none
            'UnlockRetries': dbus.Dictionary({}, signature='uu'),
            'State': i(_modem_state(_mm['reg'])),
            'StateFailedReason': u(0),
            'AccessTechnologies': u(_mm['rat']),
            'SignalQuality': dbus.Struct((u(70), b(True)), signature='ub'),
            'OwnNumbers': dbus.Array([], signature='s'),
            'PowerState': u(3),                         # on
            'SupportedModes': dbus.Array([dbus.Struct((u(2 | 4 | 8), u(8)), signature='uu')],
                                         signature='(uu)'),
            'CurrentModes': dbus.Struct((u(2 | 4 | 8), u(8)), signature='uu'),
            'SupportedBands': dbus.Array([], signature='u'),
            'CurrentBands': dbus.Array([], signature='u'),
            'SupportedIpFamilies': u(7),
        },
        MODEM_3GPP_IFACE: {
            'Imei': s(imei),
            'RegistrationState': u(_mm['reg']),
            'OperatorCode': s(_mm['operator_code']),
            'OperatorName': s(_mm['operator_name']),
            'EnabledFacilityLocks': u(0),
            'SubscriptionState': u(0),
            'EpsUeModeOperation': u(0),
            'Pco': dbus.Array([], signature='(ubay)'),
            'InitialEpsBearer': dbus.ObjectPath('/'),
            'InitialEpsBearerSettings': dbus.Dictionary({}, signature='sv'),
            'PacketServiceState': u(0),
        },
        LOCATION_IFACE: {
            'Capabilities': u(LOCATION_3GPP_LAC_CI),
            'SupportedAssistanceData': u(0),
            'Enabled': u(LOCATION_3GPP_LAC_CI),        # enabled by default, as MM does
            'SignalsLocation': b(_mm['signals_location']),
            'Location': _location_prop(LOCATION_3GPP_LAC_CI, _mm['signals_location']),
            'SuplServer': s(''),
            'AssistanceDataServers': dbus.Array([], signature='s'),
            'GpsRefreshRate': u(30),
        },
        MESSAGING_IFACE: {
            'Messages': ao(_mm['messages']),
            'SupportedStorages': dbus.Array([u(SMS_STORAGE_SM), u(SMS_STORAGE_ME)], signature='u'),
            'DefaultStorage': u(SMS_STORAGE_ME),
        },
        VOICE_IFACE: {
            'Calls': ao(_mm['calls']),
            'EmergencyOnly': b(False),
        },
    }


def _modem_state(reg):
    if reg in REGISTERED:
        return MODEM_STATE_REGISTERED
    if reg == REG_SEARCHING:
        return MODEM_STATE_SEARCHING
    return MODEM_STATE_ENABLED


def _location_dict(enabled):
    '''The location ModemManager would give for the enabled sources.'''
    loc = {}
    if enabled & LOCATION_3GPP_LAC_CI and _mm['lac_ci']:
        loc[u(LOCATION_3GPP_LAC_CI)] = dbus.String(_mm['lac_ci'], variant_level=1)
    return dbus.Dictionary(loc, signature='uv')


def _location_prop(enabled, signals):
    # ModemManager fills the Location property only with SignalsLocation set
    return _location_dict(enabled if signals else 0)


def _add_modem(emit):
    m = _mm['main']
    props = _modem_props()
    m.AddObject(MODEM_PATH, MODEM_IFACE, props[MODEM_IFACE], [
        ('Enable', 'b', '', _modem_enable),
        ('ListBearers', '', 'ao', lambda self: ao([])),
        ('CreateBearer', 'a{sv}', 'o', _unsupported),
        ('DeleteBearer', 'o', '', _unsupported),
        ('FactoryReset', 's', '', _unsupported),
        ('SetPowerState', 'u', '', lambda self, st: None),
        ('SetCurrentCapabilities', 'u', '', _unsupported),
        ('SetCurrentModes', '(uu)', '', lambda self, modes: None),
        ('SetCurrentBands', 'au', '', lambda self, bands: None),
        ('Command', 'su', 's', lambda self, cmd, timeout: s('')),
    ])
    modem = objects[MODEM_PATH]
    for iface in (MODEM_3GPP_IFACE, LOCATION_IFACE, MESSAGING_IFACE, VOICE_IFACE):
        modem.AddProperties(iface, dbus.Dictionary(props[iface], signature='sv'))
    modem.AddMethods(MODEM_3GPP_IFACE, [
        ('Register', 's', '', lambda self, op: None),
        ('Scan', '', 'aa{sv}', lambda self: dbus.Array([], signature='a{sv}')),
    ])
    modem.AddMethods(LOCATION_IFACE, [
        ('Setup', 'ub', '', _location_setup),
        ('GetLocation', '', 'a{uv}',
         lambda self: _location_dict(self.props[LOCATION_IFACE]['Enabled'])),
        ('SetSuplServer', 's', '', _unsupported),
        ('InjectAssistanceData', 'ay', '', _unsupported),
        ('SetGpsRefreshRate', 'u', '', lambda self, rate: None),
    ])
    modem.AddMethods(MESSAGING_IFACE, [
        ('List', '', 'ao', lambda self: ao(_mm['messages'])),
        ('Delete', 'o', '', _messaging_delete),
        ('Create', 'a{sv}', 'o', _messaging_create),
    ])
    modem.AddMethods(VOICE_IFACE, [
        ('ListCalls', '', 'ao', lambda self: ao(_mm['calls'])),
        ('CreateCall', 'a{sv}', 'o', _voice_create_call),
        ('DeleteCall', 'o', '', _voice_delete_call),
        ('HangupAll', '', '', _voice_hangup_all),
    ])
    _mm['modem_present'] = True
    if emit:
        m.EmitSignal(OBJECT_MANAGER_IFACE, 'InterfacesAdded', 'oa{sa{sv}}',
                     [dbus.ObjectPath(MODEM_PATH), modem.props])
    return False


def _unsupported(self, *_):
    raise _err(ERR_CORE + '.Unsupported', 'not supported by the mock')


def _modem_enable(self, enable):
    old = int(self.props[MODEM_IFACE]['State'])
    new = _modem_state(_mm['reg']) if enable else MODEM_STATE_DISABLED
    if old != new:
        _changed(self, MODEM_IFACE, {'State': i(new)})
        self.EmitSignal(MODEM_IFACE, 'StateChanged', 'iiu', [old, new, 1])  # 1: user-requested


def _location_setup(self, sources, signals):
    caps = int(self.props[LOCATION_IFACE]['Capabilities'])
    if sources & ~caps:
        raise _err(ERR_CORE + '.Unsupported',
                   f'Cannot enable unsupported location sources: {sources & ~caps:#x}')
    _changed(self, LOCATION_IFACE, {
        'Enabled': u(sources),
        'SignalsLocation': b(signals),
        'Location': _location_prop(sources, signals),
    })


def _update_location():
    modem = objects.get(MODEM_PATH)
    if modem is None:
        return
    lp = modem.props[LOCATION_IFACE]
    new = _location_prop(int(lp['Enabled']), bool(lp['SignalsLocation']))
    if dict(new) != dict(lp['Location']):
        _changed(modem, LOCATION_IFACE, {'Location': new})


# ---------------------------------------------------------------------------
# Messaging and SMS

def _sms_props(number, text, data, state, pdu_type, storage, extra=None):
    props = {
        'State': u(state),
        'PduType': u(pdu_type),
        'Number': s(number),
        'Text': s(text),
        'Data': ay(data),
        'SMSC': s('+15550000000' if pdu_type == SMS_PDU_DELIVER else ''),
        'Validity': dbus.Struct((u(0), dbus.UInt32(0, variant_level=1)), signature='uv'),
        'Class': i(-1),
        'TeleserviceId': u(0),
        'ServiceCategory': u(0),
        'DeliveryReportRequest': b(False),
        'MessageReference': u(0),
        'Timestamp': s(_timestamp() if pdu_type == SMS_PDU_DELIVER else ''),
        'DischargeTimestamp': s(''),
        'DeliveryState': u(0x100),                  # unknown
        'Storage': u(storage),
    }
    props.update(extra or {})
    return props


def _add_sms(props, received):
    path = _new_path('SMS')
    _mm['main'].AddObject(path, SMS_IFACE, props, [
        ('Send', '', '', _sms_send),
        ('Store', 'u', '', _sms_store),
    ])
    _mm['messages'].append(path)
    modem = objects[MODEM_PATH]
    _changed(modem, MESSAGING_IFACE, {'Messages': ao(_mm['messages'])})
    modem.EmitSignal(MESSAGING_IFACE, 'Added', 'ob', [dbus.ObjectPath(path), received])
    return path


def _messaging_create(self, props):
    number = str(props.get('number', ''))
    text = props.get('text')
    data = props.get('data')
    if not number:
        raise _err(ERR_CORE + '.InvalidArgs', "Invalid SMS properties: 'number' is required")
    if (text is None) == (data is None):
        raise _err(ERR_CORE + '.InvalidArgs',
                   "Invalid SMS properties: either 'text' or 'data' is required, not both")
    extra = {}
    if 'smsc' in props:
        extra['SMSC'] = s(props['smsc'])
    if 'class' in props:
        extra['Class'] = i(props['class'])
    if 'validity' in props:
        extra['Validity'] = dbus.Struct((u(2), dbus.UInt32(props['validity'], variant_level=1)),
                                        signature='uv')      # 2: relative
    if 'delivery-report-request' in props:
        extra['DeliveryReportRequest'] = b(props['delivery-report-request'])
    sms = _sms_props(number, str(text or ''), data or [], SMS_STATE_UNKNOWN, SMS_PDU_SUBMIT,
                     SMS_STORAGE_UNKNOWN, extra)
    return dbus.ObjectPath(_add_sms(sms, False))


def _messaging_delete(self, path):
    path = str(path)
    if path not in _mm['messages']:
        raise _err(ERR_CORE + '.NotFound', f'Couldn\'t delete SMS: path \'{path}\' not found')
    _mm['messages'].remove(path)
    _mm['main'].RemoveObject(path)
    _mm['deleted'].append(path)
    _changed(self, MESSAGING_IFACE, {'Messages': ao(_mm['messages'])})
    self.EmitSignal(MESSAGING_IFACE, 'Deleted', 'o', [dbus.ObjectPath(path)])


def _sms_send(self):
    p = self.props[SMS_IFACE]
    if int(p['PduType']) == SMS_PDU_DELIVER:
        raise _err(ERR_CORE + '.Unsupported', 'This SMS was received, cannot send it')
    if int(p['State']) == SMS_STATE_SENT:
        raise _err(ERR_CORE + '.WrongState', 'This SMS was already sent, cannot send it again')
    old = int(p['State'])
    _changed(self, SMS_IFACE, {'State': u(SMS_STATE_SENDING)})
    failure = _mm['send_failure']
    if failure:
        _mm['send_failure'] = None
        _changed(self, SMS_IFACE, {'State': u(old)})
        raise _err(failure[0], failure[1])
    _mm['message_reference'] = (_mm['message_reference'] + 1) % 256
    _changed(self, SMS_IFACE, {'State': u(SMS_STATE_SENT),
                               'MessageReference': u(_mm['message_reference'])})
    _mm['sent'].append((str(p['Number']), str(p['Text']), [int(x) for x in p['Data']]))


def _sms_store(self, storage):
    p = self.props[SMS_IFACE]
    if int(p['State']) not in (SMS_STATE_UNKNOWN,):
        raise _err(ERR_CORE + '.WrongState', 'This SMS is already stored')
    _changed(self, SMS_IFACE, {'State': u(SMS_STATE_STORED),
                               'Storage': u(storage or SMS_STORAGE_ME)})


# ---------------------------------------------------------------------------
# Voice and calls

def _add_call(number, direction, state, reason):
    path = _new_path('Call')
    _mm['main'].AddObject(path, CALL_IFACE, {
        'State': i(state),
        'StateReason': i(reason),
        'Direction': i(direction),
        'Number': s(number),
        'Multiparty': b(False),
        'AudioPort': s(''),
        'AudioFormat': dbus.Dictionary({}, signature='sv'),
    }, [
        ('Start', '', '', _call_start),
        ('Accept', '', '', _call_accept),
        ('Hangup', '', '', _call_hangup),
        ('SendDtmf', 's', '', lambda self, dtmf: None),
        ('Deflect', 's', '', _unsupported),
        ('JoinMultiparty', '', '', _unsupported),
        ('LeaveMultiparty', '', '', _unsupported),
    ])
    _mm['calls'].append(path)
    modem = objects[MODEM_PATH]
    _changed(modem, VOICE_IFACE, {'Calls': ao(_mm['calls'])})
    modem.EmitSignal(VOICE_IFACE, 'CallAdded', 'o', [dbus.ObjectPath(path)])
    return path


def _call_set_state(call, new, reason):
    old = int(call.props[CALL_IFACE]['State'])
    _changed(call, CALL_IFACE, {'State': i(new), 'StateReason': i(reason)})
    call.EmitSignal(CALL_IFACE, 'StateChanged', 'iiu', [old, new, reason])


def _call_start(self):
    p = self.props[CALL_IFACE]
    if int(p['Direction']) != CALL_DIRECTION_OUTGOING or int(p['State']) != CALL_STATE_UNKNOWN:
        raise _err(ERR_CORE + '.WrongState', 'This call was not in unknown state, cannot start it')
    _call_set_state(self, CALL_STATE_DIALING, CALL_REASON_OUTGOING_STARTED)


def _call_accept(self):
    p = self.props[CALL_IFACE]
    if int(p['Direction']) != CALL_DIRECTION_INCOMING or int(p['State']) != CALL_STATE_RINGING_IN:
        raise _err(ERR_CORE + '.WrongState', 'This call was not ringing, cannot accept')
    _call_set_state(self, CALL_STATE_ACTIVE, CALL_REASON_ACCEPTED)


def _call_hangup(self):
    if int(self.props[CALL_IFACE]['State']) == CALL_STATE_TERMINATED:
        raise _err(ERR_CORE + '.WrongState', 'This call was not active, cannot hangup')
    _call_set_state(self, CALL_STATE_TERMINATED, CALL_REASON_TERMINATED)
    _mm['hung_up'].append(self.path)


def _voice_create_call(self, props):
    number = str(props.get('number', ''))
    if not number:
        raise _err(ERR_CORE + '.InvalidArgs', "Invalid call properties: 'number' is required")
    return dbus.ObjectPath(_add_call(number, CALL_DIRECTION_OUTGOING, CALL_STATE_UNKNOWN,
                                     CALL_REASON_UNKNOWN))


def _voice_delete_call(self, path):
    path = str(path)
    if path not in _mm['calls']:
        raise _err(ERR_CORE + '.NotFound', f'Couldn\'t delete call: path \'{path}\' not found')
    _mm['calls'].remove(path)
    _mm['main'].RemoveObject(path)
    _changed(self, VOICE_IFACE, {'Calls': ao(_mm['calls'])})
    self.EmitSignal(VOICE_IFACE, 'CallDeleted', 'o', [dbus.ObjectPath(path)])


def _voice_hangup_all(self):
    for path in list(_mm['calls']):
        call = objects[path]
        if int(call.props[CALL_IFACE]['State']) != CALL_STATE_TERMINATED:
            _call_hangup(call)


# ---------------------------------------------------------------------------

def load(mock, parameters):
    p = parameters or {}
    _mm.clear()
    _mm.update({
        'main': mock,
        'imei': str(p.get('equipment_identifier', '490154203237518')),
        'reg': int(p.get('registration_state', REG_SEARCHING)),
        'operator_code': str(p.get('operator_code', '')),
        'rat': int(p.get('access_technologies', 0)),
        'signals_location': bool(p.get('signals_location', False)),
        'multipart_delay': float(p.get('multipart_delay', 0.3)),
        'lac_ci': '',
        'modem_present': False,
        'messages': [], 'calls': [],
        'next_SMS': 0, 'next_Call': 0,
        'sent': [], 'deleted': [], 'hung_up': [],
        'send_failure': None,
        'message_reference': 0,
    })
    _mm['operator_name'] = str(p.get('operator_name', _operator_name(_mm['operator_code'])))

    # ModemManager's ObjectManager lists the modems only, not SMS or calls
    mock.AddMethod(OBJECT_MANAGER_IFACE, 'GetManagedObjects', '', 'a{oa{sa{sv}}}',
                   lambda self: dbus.Dictionary(
                       {dbus.ObjectPath(k): v.props for k, v in objects.items()
                        if k.startswith(MAIN_OBJ + '/Modem/')},
                       signature='oa{sa{sv}}'))
    mock.AddProperties(MAIN_IFACE, dbus.Dictionary({'Version': s('1.20.4')}, signature='sv'))
    mock.AddMethods(MAIN_IFACE, [
        ('ScanDevices', '', '', ''),
        ('SetLogging', 's', '', ''),
        ('ReportKernelEvent', 'a{sv}', '', ''),
        ('InhibitDevice', 'sb', '', ''),
    ])

    delay = float(p.get('modem_delay', 0))
    if delay > 0:
        GLib.timeout_add(int(delay * 1000), _add_modem, True)
    else:
        _add_modem(False)


def _operator_name(code):
    return f'Mock {code}' if code else ''


# ---------------------------------------------------------------------------
# Test control, on org.freedesktop.DBus.Mock

@dbus.service.method(MOCK_IFACE, in_signature='says', out_signature='o')
def ReceiveSms(self, number, data, text):
    '''An SMS arrives, complete: State received, Messaging.Added(path, true).

    data is the SMS's user data (empty for a text SMS), text its text.
    Returns the new SMS's object path.
    '''
    _modem()
    props = _sms_props(number, text, data, SMS_STATE_RECEIVED, SMS_PDU_DELIVER, SMS_STORAGE_ME)
    return dbus.ObjectPath(_add_sms(props, True))


@dbus.service.method(MOCK_IFACE, in_signature='say', out_signature='o')
def ReceiveSmsMultipart(self, number, data):
    '''A concatenated SMS arrives: first Messaging.Added(path, true) with State
    receiving and no Data, then (multipart_delay later) PropertiesChanged
    with Data and State received.  Returns the new SMS's object path.
    '''
    _modem()
    props = _sms_props(number, '', [], SMS_STATE_RECEIVING, SMS_PDU_DELIVER, SMS_STORAGE_ME)
    path = _add_sms(props, True)
    data = ay(data)

    def complete():
        sms = objects.get(path)
        if sms is not None:
            _changed(sms, SMS_IFACE, {'Data': data, 'State': u(SMS_STATE_RECEIVED)})
        return False

    GLib.timeout_add(int(_mm['multipart_delay'] * 1000), complete)
    return dbus.ObjectPath(path)


@dbus.service.method(MOCK_IFACE, in_signature='us', out_signature='')
def SetRegistration(self, state, operator_code):
    '''Modem3gpp.RegistrationState, OperatorCode (MCCMNC, "" unknown) and
    OperatorName; Modem.State follows (registered, searching or enabled).'''
    modem = _modem()
    _mm['reg'] = int(state)
    _mm['operator_code'] = str(operator_code)
    _mm['operator_name'] = _operator_name(_mm['operator_code'])
    _changed(modem, MODEM_3GPP_IFACE, {
        'RegistrationState': u(state),
        'OperatorCode': s(operator_code),
        'OperatorName': s(_mm['operator_name']),
    })
    old = int(modem.props[MODEM_IFACE]['State'])
    new = _modem_state(_mm['reg'])
    if old not in (MODEM_STATE_DISABLED, new):
        _changed(modem, MODEM_IFACE, {'State': i(new)})
        modem.EmitSignal(MODEM_IFACE, 'StateChanged', 'iiu', [old, new, 0])


@dbus.service.method(MOCK_IFACE, in_signature='ssuuu', out_signature='')
def SetLocation(self, mcc, mnc, lac, ci, tac):
    '''The serving cell: 3GPP LAC/CI location "MCC,MNC,LAC,CI,TAC" (hex LAC,
    CI, TAC, as ModemManager gives it).  GetLocation returns it; the Location
    property (and its PropertiesChanged) follows only while SignalsLocation
    is true (Setup(sources, true)), as in ModemManager.'''
    _modem()
    _mm['lac_ci'] = f'{mcc},{mnc},{int(lac):X},{int(ci):X},{int(tac):X}' if mcc else ''
    _update_location()


@dbus.service.method(MOCK_IFACE, in_signature='u', out_signature='')
def SetAccessTechnologies(self, rat):
    '''Modem.AccessTechnologies (MMModemAccessTechnology flags, e.g. 2 gsm,
    32 umts, 16384 lte).'''
    modem = _modem()
    _mm['rat'] = int(rat)
    _changed(modem, MODEM_IFACE, {'AccessTechnologies': u(rat)})


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='o')
def AddOutgoingCall(self, number):
    '''The user dials: a Call, Direction outgoing, State dialing, and
    Voice.CallAdded.  Returns the call's object path.'''
    _modem()
    return dbus.ObjectPath(_add_call(number, CALL_DIRECTION_OUTGOING, CALL_STATE_DIALING,
                                     CALL_REASON_OUTGOING_STARTED))


@dbus.service.method(MOCK_IFACE, in_signature='ss', out_signature='')
def SetSendFailure(self, error_name, message):
    '''The next Sms.Send fails with this D-Bus error (once); "" clears.'''
    _mm['send_failure'] = (str(error_name), str(message)) if error_name else None


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='')
def RemoveModem(self):
    '''The modem goes away (InterfacesRemoved), with its SMS and calls.'''
    if not _mm['modem_present']:
        return
    modem = objects[MODEM_PATH]
    ifaces = dbus.Array(list(modem.props.keys()), signature='s')
    for path in _mm['messages'] + _mm['calls']:
        _mm['main'].RemoveObject(path)
    _mm['messages'].clear()
    _mm['calls'].clear()
    _mm['main'].RemoveObject(MODEM_PATH)
    _mm['modem_present'] = False
    _mm['main'].EmitSignal(OBJECT_MANAGER_IFACE, 'InterfacesRemoved', 'oas',
                           [dbus.ObjectPath(MODEM_PATH), ifaces])


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='')
def AddModem(self):
    '''The modem (back) again (InterfacesAdded).'''
    if not _mm['modem_present']:
        _add_modem(True)


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='a(ssay)')
def GetSentSms(self):
    '''(number, text, data) of every SMS sent successfully, in order.'''
    return dbus.Array([dbus.Struct((s(n), s(t), ay(d)), signature='ssay')
                       for n, t, d in _mm['sent']], signature='(ssay)')


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='ao')
def GetDeletedSms(self):
    '''Every SMS deleted by Messaging.Delete, in order.'''
    return ao(_mm['deleted'])


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='ao')
def GetHungUpCalls(self):
    '''Every call hung up by Call.Hangup (or Voice.HangupAll), in order.'''
    return ao(_mm['hung_up'])
